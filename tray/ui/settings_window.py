"""The Settings window (issue 20): tabs General, Hotkeys, Capture, Upload/Server, About (:mod:`tray.ui.settings_form`
says which settings each shows). Every field is checked by the settings schema as it changes, and the problem is
shown next to it in ``snaplark config set``'s words; two hotkeys with the same combination are shown at once, and so
is a combination another application holds (checked as registration checks it: on X11 a test ``XGrabKey``). Save
writes every change in one atomic write through the config store (:func:`tray.config.set_values`, which validates
the whole file first: nothing is written while anything is wrong); Cancel discards. "Start at login" goes through the
OS's autostart adapter (:mod:`tray.autostart`); log in / out through the tray's account flow; "Check server" runs
``snaplark server check``'s survey (:mod:`tray.ui.server_check_panel`).

Threading: Tk thread only; the server check runs on its own thread and posts its report.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Callable

from tray.ui import settings_form as form
from tray.ui.context import TrayContext

log = logging.getLogger(__name__)

ERROR_COLOUR = "#b00020"


class SettingsWindow:
    """``on_saved(settings)``: the app applies the new settings (hotkeys at once) and may return what needs a
    restart. ``on_login``/``on_logout``: the tray's account flow. ``on_recording(bool)``: a hotkey is being
    recorded (the app pauses its global hotkeys). ``autostart``: the OS adapter (default :func:`tray.autostart.
    create_autostart`). ``on_close`` runs when the window closes."""

    def __init__(self, ctx: TrayContext, *, on_saved: Callable[[Any], list[str] | None] | None = None,
                 on_login: Callable[[], None] | None = None, on_logout: Callable[[], None] | None = None,
                 on_recording: Callable[[bool], None] | None = None, autostart: Any = None,
                 on_close: Callable[[], None] | None = None,
                 taken_check: Callable[[dict[str, str]], dict[str, str]] | None = None):
        import tkinter as tk
        from tkinter import ttk

        from tray import config

        self.ctx = ctx
        self.path = Path(ctx.config_path) if ctx.config_path else config.resolve_path(None)
        self.on_saved = on_saved
        self.on_recording = on_recording
        self._on_close = on_close
        self.closed = False
        self.before = form.current_values(ctx.settings)
        self.vars: dict[str, Any] = {}
        self.widgets: dict[str, Any] = {}
        self.errors: dict[str, Any] = {}  # key -> the label next to the field
        self.recorders: dict[str, Any] = {}
        self._last_changed: str | None = None
        if taken_check is None:
            from tray.ui.hotkeys import taken_by_others as taken_check
        self._taken_check = taken_check
        self.taken: dict[str, str] = {}  # hotkey key -> another application holds that combination (not blocking)

        top = self.top = tk.Toplevel(ctx.root)
        top.title("Snaplark — Settings")
        top.protocol("WM_DELETE_WINDOW", self.cancel)
        buttons = ttk.Frame(top, padding=8)
        buttons.pack(side="bottom", fill="x")
        self.status = ttk.Label(buttons, text="", wraplength=520, foreground=ERROR_COLOUR)
        self.status.pack(side="left", fill="x", expand=True)
        self.save_button = ttk.Button(buttons, text="Save", command=self.save)
        self.cancel_button = ttk.Button(buttons, text="Cancel", command=self.cancel)
        self.cancel_button.pack(side="right")
        self.save_button.pack(side="right", padx=4)
        self.notebook = ttk.Notebook(top)
        self.notebook.pack(fill="both", expand=True, padx=8, pady=(8, 0))
        self.tabs: dict[str, Any] = {}
        for name, specs in form.TABS.items():
            frame = self.tabs[name] = ttk.Frame(self.notebook, padding=10)
            self.notebook.add(frame, text=name)
            for row, spec in enumerate(specs):
                self._field(frame, row, spec)
        self.autostart = self._general_extras(autostart)
        self._server_extras(on_login, on_logout)
        self._about()
        self._check_taken()
        self.validate()

    # ------------------------------------------------------------------ building
    def _field(self, frame: Any, row: int, spec: form.FieldSpec) -> None:
        import tkinter as tk
        from tkinter import ttk

        value = self.before[spec.key]
        ttk.Label(frame, text=spec.label).grid(row=2 * row, column=0, sticky="w", padx=(0, 10), pady=(6, 0))
        if spec.widget == "bool":
            var = tk.BooleanVar(self.top, value=value)
            widget = ttk.Checkbutton(frame, variable=var)
        elif spec.widget == "choice":
            var = tk.StringVar(self.top, value=value)
            widget = ttk.Combobox(frame, textvariable=var, values=spec.choices, state="readonly", width=12)
        elif spec.widget == "hotkey":
            from tray.ui.hotkey_recorder import HotkeyRecorder

            var = tk.StringVar(self.top, value=value)
            recorder = self.recorders[spec.key] = HotkeyRecorder(frame, var, on_recording=self._recording)
            widget = recorder.entry
        else:
            var = tk.StringVar(self.top, value=value)
            widget = ttk.Entry(frame, textvariable=var, width=36 if spec.key == "server.url" else 28)
        widget.grid(row=2 * row, column=1, sticky="w", pady=(6, 0))
        if spec.widget == "folder":
            ttk.Button(frame, text="Choose…", command=lambda: self._choose_folder(var)).grid(
                row=2 * row, column=2, sticky="w", padx=4, pady=(6, 0))
        elif spec.hint:
            ttk.Label(frame, text=spec.hint, foreground="#666").grid(row=2 * row, column=2, sticky="w", padx=4,
                                                                    pady=(6, 0))
        error = ttk.Label(frame, text="", foreground=ERROR_COLOUR, wraplength=560)
        error.grid(row=2 * row + 1, column=0, columnspan=3, sticky="w")
        self.vars[spec.key], self.errors[spec.key] = var, error
        self.widgets[spec.key] = widget
        var.trace_add("write", lambda *a, key=spec.key: self._changed(key))

    def _general_extras(self, autostart: Any) -> Any:
        import tkinter as tk
        from tkinter import ttk

        frame = self.tabs["General"]
        row = 2 * len(form.TABS["General"])
        self.start_at_login = tk.BooleanVar(self.top, value=False)
        box = ttk.Checkbutton(frame, text="Start Snaplark when I log in", variable=self.start_at_login)
        box.grid(row=row, column=0, columnspan=3, sticky="w", pady=(12, 0))
        note = ttk.Label(frame, text="", foreground="#666", wraplength=560)
        note.grid(row=row + 1, column=0, columnspan=3, sticky="w")
        try:
            if autostart is None:
                from tray.autostart import create_autostart

                autostart = create_autostart()
            self.start_at_login.set(bool(autostart.is_enabled()))
            self._autostart_before = self.start_at_login.get()
            return autostart
        except Exception as exc:  # noqa: BLE001 - no adapter for this OS: say so, the box stays off
            box.state(["disabled"])
            note.configure(text=f"Start at login is not available here: {exc}")
            self._autostart_before = False
            return None

    def _server_extras(self, on_login: Callable[[], None] | None, on_logout: Callable[[], None] | None) -> None:
        from tkinter import ttk

        from tray.ui.server_check_panel import ServerCheckPanel

        import tkinter as tk

        frame = self.tabs["Upload/Server"]
        row = 2 * len(form.TABS["Upload/Server"])
        self.embedded = tk.BooleanVar(self.top, value=self.before["server.url"] == "")
        self._remote_url = self.before["server.url"]
        ttk.Checkbutton(frame, text="Use the embedded server on this computer (no server URL)",
                        variable=self.embedded, command=self._embedded_toggled).grid(
            row=row, column=0, columnspan=3, sticky="w", pady=(12, 0))
        self._embedded_toggled()
        account = ttk.Frame(frame)
        account.grid(row=row + 1, column=0, columnspan=3, sticky="w", pady=(12, 0))
        self.login_button = ttk.Button(account, text="Log in…", command=on_login or (lambda: None))
        self.logout_button = ttk.Button(account, text="Log out", command=on_logout or (lambda: None))
        for button, handler in ((self.login_button, on_login), (self.logout_button, on_logout)):
            button.pack(side="left", padx=(0, 4))
            if handler is None:
                button.state(["disabled"])
        self.server_check = ServerCheckPanel(self.ctx, frame, row + 2, settings=self.form_settings)

    def _embedded_toggled(self) -> None:
        """On: the URL is emptied (= the embedded server) and locked; off: the URL typed before comes back."""
        url, entry = self.vars["server.url"], self.widgets["server.url"]
        if self.embedded.get():
            if url.get():
                self._remote_url = url.get()
            url.set("")
            entry.state(["disabled"])
        else:
            entry.state(["!disabled"])
            url.set(self._remote_url)

    def _about(self) -> None:
        from tkinter import ttk

        import tray
        from tray import paths

        frame = ttk.Frame(self.notebook, padding=10)
        self.notebook.add(frame, text="About")
        log_dir = paths.log_dir()
        ttk.Label(frame, text=f"Snaplark {tray.__version__}").grid(row=0, column=0, columnspan=2, sticky="w")
        ttk.Label(frame, text=f"Settings file: {self.path}").grid(row=1, column=0, columnspan=2, sticky="w",
                                                                  pady=(6, 0))
        ttk.Label(frame, text=f"Log folder: {log_dir}").grid(row=2, column=0, columnspan=2, sticky="w", pady=(6, 0))
        ttk.Button(frame, text="Open log", command=lambda: self._open(log_dir / "snaplark.log")).grid(
            row=3, column=0, sticky="w", pady=(10, 0))
        ttk.Button(frame, text="Open log folder", command=lambda: self._open(log_dir)).grid(
            row=3, column=1, sticky="w", padx=4, pady=(10, 0))

    # ------------------------------------------------------------------ values and checks
    def values(self) -> dict[str, Any]:
        return {key: var.get() for key, var in self.vars.items()}

    def form_settings(self) -> Any:
        """The settings as the form has them (for "Check server"); the saved ones where a field is invalid."""
        from dataclasses import replace

        settings = self.ctx.settings
        for key, value in self.values().items():
            section, name = key.split(".", 1)
            if form.problem(key, value) is None and key.startswith("server."):
                from tray import config

                typed = config.parse_value(key, value) if isinstance(value, str) else value
                settings = replace(settings, **{section: replace(getattr(settings, section), **{name: typed})})
        return settings

    def _changed(self, key: str) -> None:
        self._last_changed = key
        if key.startswith("hotkeys."):
            self._check_taken()
        self.validate()

    def _check_taken(self) -> None:
        """Which shown hotkeys another application holds now (X11: its XGrabKey), as registration would report."""
        hotkeys = {key.split(".", 1)[1]: str(var.get()) for key, var in self.vars.items()
                   if key.startswith("hotkeys.")}
        self.taken = self._taken_check(hotkeys)

    def validate(self) -> dict[str, str]:
        """Check every field now; show each problem next to its field. Returns ``{key: message}``. A hotkey another
        application holds is shown too, but it does not stop Save (it may be let go; registration says it again)."""
        found = form.problems(self.values(), self._last_changed)
        for key, label in self.errors.items():
            label.configure(text=found.get(key) or self.taken.get(key, ""))
        taken = len(set(self.taken) - set(found))
        self.status.configure(text=f"{len(found)} setting(s) to fix before saving" if found else
                              f"{taken} hotkey(s) taken by another application: Snaplark cannot register "
                              f"{'it' if taken == 1 else 'them'} while that application holds "
                              f"{'it' if taken == 1 else 'them'}" if taken else "")
        return found

    def _recording(self, active: bool) -> None:
        if self.on_recording is not None:
            self.on_recording(active)

    def _choose_folder(self, var: Any) -> None:
        from tkinter import filedialog

        chosen = filedialog.askdirectory(parent=self.top, title="Save captures in",
                                         initialdir=var.get() or str(self.ctx.settings.upload.resolved_save_dir()))
        if chosen:
            var.set(chosen)

    def _open(self, path: Path) -> None:
        from tray.ui.opener import open_path

        open_path(self.ctx, path)

    # ------------------------------------------------------------------ save / cancel
    def save(self) -> bool:
        """Write the changes (atomically, all or nothing). False, with the problems shown, when nothing was
        written."""
        from tray import config

        if self.validate():
            return False
        changed = form.changes(self.before, self.values())
        if changed or not self.path.exists():
            try:
                settings = config.set_values(self.path, changed)
            except config.ConfigError as exc:
                for key, value, reason in exc.problems:
                    if key in self.errors:
                        self.errors[key].configure(text=f"{key} = {config.show_value(value)}: {reason}")
                self.status.configure(text=str(exc))
                return False
        else:
            settings = self.ctx.settings
        if not self._apply_autostart():
            return False
        restart = list(form.needs_restart(changed))
        if self.on_saved is not None and changed:
            restart = self.on_saved(settings) or restart
        log.info("settings saved to %s: %s", self.path, ", ".join(sorted(changed)) or "no changes")
        if restart and self.ctx.notifier is not None:
            self.ctx.confirm("Settings saved", "Restart Snaplark to use the new " + " and ".join(restart) + ".")
        self.close()
        return True

    def _apply_autostart(self) -> bool:
        wanted = self.start_at_login.get()
        if self.autostart is None or wanted == self._autostart_before:
            return True
        try:
            if wanted:
                from tray.autostart import launcher_command

                self.autostart.enable(launcher_command())
            else:
                self.autostart.disable()
        except Exception as exc:  # noqa: BLE001 - a file or registry value that cannot be written
            self.status.configure(text=f"Start at login could not be changed: {exc}")
            return False
        self._autostart_before = wanted
        return True

    def cancel(self) -> None:
        """Close without writing anything."""
        self.close()

    def raise_(self) -> None:
        self.top.deiconify()
        self.top.lift()
        self.top.focus_force()

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        for recorder in self.recorders.values():
            recorder.stop()
        self.server_check.close()
        self.top.destroy()
        if self._on_close is not None:
            self._on_close()
