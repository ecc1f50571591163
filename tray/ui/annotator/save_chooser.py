"""Where the annotator's Save asks for a file name: the desktop's own save dialog where there is one.

Backends, one class each behind :class:`SaveChooser`, picked by :func:`choose_save_chooser` the way pystray picks
its backend: ``$SNAPLARK_SAVE_DIALOG`` (``gtk`` or ``tk``) first if set, then the platform's order; a backend that
cannot load is skipped and the reason kept (``SaveChooserChoice.skipped``) for the log.

* ``gtk`` -- GTK 3's file chooser through PyGObject, what GTK desktops (GNOME, Xfce, Cinnamon, MATE) show in every
  app; Linux and the BSDs. Needs ``gi`` with Gtk 3.0 and a display GTK can open.
* ``tk`` -- Tk's ``tk_getSaveFile``: on Windows and macOS that *is* the system dialog (IFileDialog, NSSavePanel);
  on X11 it is Tk's own, the fallback when GTK is missing.

Both open in the captures folder with a dated name (:func:`default_filename`).

Threading: ``ask`` is called on the Tk thread and ``on_done`` runs on the Tk thread. GTK is not thread-safe and in
the tray app its main loop already runs on the tray thread (pystray's gtk backend): the GTK chooser is then built
and shown on that thread (``GLib.idle_add``) and its answer comes back through a queue the Tk thread polls with
``after``. When no other thread runs GTK (``snaplark shot --annotate``, tests), the Tk thread iterates GLib's
default context itself, from the same ``after`` poll, while the chooser is open; the annotator keeps repainting.
"""

from __future__ import annotations

import logging
import os
import queue
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Protocol

log = logging.getLogger(__name__)

ENV_SAVE_DIALOG = "SNAPLARK_SAVE_DIALOG"
DIALOG_TITLE = "Save screenshot"
FILENAME_FORMAT = "Screenshot %Y-%m-%d %H-%M-%S.png"

DoneCallback = Callable[["Path | None"], Any]


def default_filename(now: float | None = None) -> str:
    """``Screenshot 2026-12-06 14-03-12.png`` for the local time ``now`` (default: the current time). No colons,
    so the name is valid on every file system."""
    return time.strftime(FILENAME_FORMAT, time.localtime(time.time() if now is None else now))


class SaveChooser(Protocol):
    name: str

    def ask(self, parent: Any, folder: Path, filename: str, on_done: DoneCallback) -> None:
        """Show a save dialog for a PNG over the Tk widget ``parent``'s window, starting in ``folder`` with
        ``filename`` filled in. Later (or at once), ``on_done(path)`` runs once on the Tk thread: the chosen path,
        or None when the user cancelled. Tk thread only."""


def _with_png_suffix(path: str) -> Path:
    p = Path(path)
    return p if p.suffix else p.with_name(p.name + ".png")


class TkSaveChooser:
    """``tk_getSaveFile``: the system dialog on Windows and macOS, Tk's own on X11. Modal: answers before
    returning."""

    name = "tk"

    @classmethod
    def load(cls) -> "TkSaveChooser":
        return cls()

    def ask(self, parent: Any, folder: Path, filename: str, on_done: DoneCallback) -> None:
        from tkinter import filedialog

        chosen = filedialog.asksaveasfilename(parent=parent, title=DIALOG_TITLE, initialdir=str(folder),
                                              initialfile=filename, defaultextension=".png",
                                              filetypes=[("PNG image", "*.png")])
        on_done(_with_png_suffix(chosen) if chosen else None)


@dataclass
class _Request:
    folder: Path
    filename: str
    parent_xid: int | None
    answers: "queue.SimpleQueue[Path | None]" = field(default_factory=queue.SimpleQueue)


class GtkSaveChooser:
    """GTK 3's ``FileChooserDialog`` (save action, overwrite confirmation, a PNG filter), kept above the annotator
    (made transient for its X window through GdkX11 where that is available). See the module docstring for the
    threads."""

    name = "gtk"
    POLL_MS = 15

    def __init__(self, gtk: Any, glib: Any, gdk_x11: Any = None) -> None:
        self._gtk, self._glib, self._gdk_x11 = gtk, glib, gdk_x11

    @classmethod
    def load(cls) -> "GtkSaveChooser":
        import gi

        gi.require_version("Gtk", "3.0")
        from gi.repository import GLib, Gtk

        if not Gtk.init_check(None)[0]:
            raise RuntimeError(f"GTK cannot open the display {os.environ.get('DISPLAY', '(DISPLAY not set)')!r}")
        gdk_x11 = None
        try:
            gi.require_version("GdkX11", "3.0")
            from gi.repository import GdkX11 as gdk_x11  # noqa: N813
        except (ImportError, ValueError):  # not on X11 builds: the dialog is shown without a parent
            pass
        return cls(Gtk, GLib, gdk_x11)

    # -- Tk thread ---------------------------------------------------------------------------------------------
    def ask(self, parent: Any, folder: Path, filename: str, on_done: DoneCallback) -> None:
        request = _Request(folder, filename, _x11_frame_id(parent))
        root = parent.nametowidget(".")
        context = self._glib.MainContext.default()
        drive_here = context.acquire()  # False: another thread (the tray's GTK loop) runs GTK
        if drive_here:
            context.release()
            self._show(request)
        else:
            self._glib.idle_add(self._show_idle, request)

        def poll() -> None:
            if drive_here:
                for _ in range(100):  # bounded: Tk gets its turn even when GTK is busy
                    if not context.pending():
                        break
                    context.iteration(False)
            try:
                path = request.answers.get_nowait()
            except queue.Empty:
                root.after(self.POLL_MS, poll)
                return
            on_done(path)

        root.after(self.POLL_MS, poll)

    # -- GTK thread ----------------------------------------------------------------------------------------------
    def _show_idle(self, request: _Request) -> bool:
        try:
            self._show(request)
        except Exception:  # noqa: BLE001 - never leave the Tk side waiting
            log.exception("the GTK save dialog failed")
            request.answers.put(None)
        return False  # run once

    def _show(self, request: _Request) -> None:
        Gtk = self._gtk
        dialog = Gtk.FileChooserDialog(title=DIALOG_TITLE, action=Gtk.FileChooserAction.SAVE)
        dialog.add_buttons("_Cancel", Gtk.ResponseType.CANCEL, "_Save", Gtk.ResponseType.ACCEPT)
        dialog.set_default_response(Gtk.ResponseType.ACCEPT)
        dialog.set_do_overwrite_confirmation(True)
        png = Gtk.FileFilter()
        png.set_name("PNG image")
        png.add_pattern("*.png")
        png.add_mime_type("image/png")
        dialog.add_filter(png)
        dialog.set_current_folder(str(request.folder))
        dialog.set_current_name(request.filename)

        def on_response(d: Any, response: int) -> None:
            chosen = d.get_filename() if response == Gtk.ResponseType.ACCEPT else None
            d.destroy()
            request.answers.put(_with_png_suffix(chosen) if chosen else None)

        dialog.connect("response", on_response)
        dialog.realize()
        self._make_transient(dialog, request.parent_xid)
        dialog.present()

    def _make_transient(self, dialog: Any, parent_xid: int | None) -> None:
        if self._gdk_x11 is None or parent_xid is None:
            return
        try:
            display = dialog.get_display()
            foreign = self._gdk_x11.X11Window.foreign_new_for_display(display, parent_xid)
            if foreign is not None:
                dialog.get_window().set_transient_for(foreign)
        except (TypeError, AttributeError) as exc:  # a non-X11 GDK display (Wayland)
            log.debug("save dialog not made transient for 0x%x: %s", parent_xid, exc)


def _x11_frame_id(widget: Any) -> int | None:
    """The X id of the window manager's frame around ``widget``'s toplevel (what a dialog is transient for)."""
    try:
        top = widget.winfo_toplevel()
        return int(top.wm_frame(), 16)
    except Exception:  # noqa: BLE001 - not X11, or not mapped
        return None


BACKENDS: dict[str, Callable[[], SaveChooser]] = {"gtk": GtkSaveChooser.load, "tk": TkSaveChooser.load}


def platform_order(platform: str) -> tuple[str, ...]:
    """Windows and macOS: Tk's dialog is the system's. Elsewhere (X11 desktops): GTK's, else Tk's."""
    if platform.startswith(("win", "darwin")):
        return ("tk",)
    return ("gtk", "tk")


@dataclass
class SaveChooserChoice:
    chooser: SaveChooser
    skipped: dict[str, str]  # backend name -> why it was not used


def choose_save_chooser(env: Mapping[str, str] | None = None, platform: str | None = None,
                        backends: Mapping[str, Callable[[], SaveChooser]] | None = None) -> SaveChooserChoice:
    """The first backend that loads: ``$SNAPLARK_SAVE_DIALOG`` if set, then :func:`platform_order`. Tk's always
    loads (the annotator is a Tk window), so there is always a chooser."""
    env = os.environ if env is None else env
    backends = BACKENDS if backends is None else backends
    order = list(platform_order(sys.platform if platform is None else platform))
    wanted = env.get(ENV_SAVE_DIALOG, "").strip().lower()
    skipped: dict[str, str] = {}
    if wanted:
        if wanted in backends:
            order = [wanted] + [name for name in order if name != wanted]
        else:
            skipped[wanted] = f"unknown {ENV_SAVE_DIALOG} value (known: {', '.join(backends)})"
    if "tk" not in order:
        order.append("tk")
    for name in order:
        try:
            chooser = backends[name]()
        except Exception as exc:  # noqa: BLE001 - ImportError, ValueError (no typelib), no display, ...
            skipped[name] = f"{type(exc).__name__}: {exc}"
            continue
        return SaveChooserChoice(chooser, skipped)
    raise RuntimeError(f"no save dialog: {skipped}")
