"""Upload progress -> native notification bridge, and notifier backend choice.

``ProgressNotifier`` subscribes to the upload engine's events (:class:`~tray.upload.events.UploadProgress`, which
carries a :class:`~tray.upload.progress.ProgressSnapshot`, and :class:`~tray.upload.events.StateChanged`) and keeps
ONE notification per upload up to date:

* progress updates are rate-limited to at most ``1 / min_interval`` per second (default 2/s) using the injected
  clock; the newest skipped update is remembered and sent by ``tick()`` (call it from a timer) or by the next event
  once the interval has passed, so the bar never stays stale;
* while a recording is still being written (a video snapshot with ``finished`` False) there is no percentage to
  show (the total grows and part 0 goes last): the notification says "Recording 00:12" and how many parts are
  already on the server, without a bar; ``tick()`` keeps the time current. The time comes from the recording's own
  clock (``recording_started(upload, elapsed)``; pauses excluded), else from the first event. ``tick()`` also reads
  such an upload's current ``progress()``: the engine publishes progress at most every 0.25 s and drops (does not
  delay) what comes sooner, so "part 3 acked" right after "part 4 cut" would otherwise stay unshown until the next
  part, ~17 s of recording later;
* after the stop it shows real upload progress: "45% · 12.3 MB of 27.1 MB";
* state changes (offline, login needed, failed, completed) are shown at once, once per change, replacing the same
  notification, with what to do next;
* completion shows the link with a "Copy link" action (and copies nothing by itself);
* one notification per upload (the engine's ``upload_id``), so a screenshot uploaded during a long video upload
  gets its own; events arriving after an upload's final notification are ignored.

Feed it the engine's events directly (``UploadEngine(on_event=progress_notifier)``). A ``StateChanged`` carries only
the new state: for an upload that is running it updates the state of the last snapshot (so it never blanks the
bytes shown).

Backends that cannot update in place (plyer, macOS) get only the start / state-change / final notifications.

Threading: ``on_event``/``on_progress``/``tick`` may be called from any thread (a lock serialises them); notifier
calls are made while holding it (each is bounded by the backend's own timeout).
"""

from __future__ import annotations

import dataclasses
import logging
import os
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from tray.humanize import human_bytes
from tray.ui.tray_icon import format_elapsed
from tray.upload.events import StateChanged, UploadProgress
from tray.upload.progress import ProgressSnapshot
from tray.upload.state import UploadState

log = logging.getLogger(__name__)

Post = Callable[[Callable[[], None]], None]


@dataclass
class _Track:
    """Notification state of one upload (key: the engine's upload_id; None for id-less events)."""

    nid: int | None = None
    phase: str = ""
    last_sent_at: float | None = None
    last_text: tuple[str, str, int | None] | None = None
    pending: tuple[str, str, int | None] | None = None
    last_event: ProgressSnapshot | None = None  # the newest full snapshot (StateChanged events update its state)
    first_seen: float | None = None  # notifier clock at the first event (fallback recording clock)


class ProgressNotifier:
    """See module docstring. ``clock`` returns seconds (monotonic). One notification per upload (``upload_id``);
    the rate limit applies to each notification."""

    def __init__(self, notifier: Any, clock: Callable[[], float] = time.monotonic, *, min_interval: float = 0.5,
                 copy_link: Callable[[str], None] | None = None, post: Post | None = None,
                 on_login: Callable[[], None] | None = None, show_progress: bool = True,
                 title: str = "Snaplark") -> None:
        self.notifier = notifier
        self.clock = clock
        self.min_interval = min_interval
        self.copy_link = copy_link
        self.post = post
        self.on_login = on_login
        self.show_progress = show_progress
        self.title = title
        self._lock = threading.Lock()
        self._tracks: dict[Any, _Track] = {}
        self._finished: set[Any] = set()  # upload ids whose final notification was shown
        self._elapsed: dict[Any, Callable[[], float]] = {}  # upload id -> its recording's clock
        self._sources: dict[Any, Any] = {}  # upload id -> the engine's upload (its progress() is read by tick)
        self.sent_updates = 0  # progress updates actually sent (for status / tests)

    def recording_started(self, upload: Any, elapsed: Callable[[], float]) -> None:
        """``upload``: the engine's upload of the recording (``id``, thread-safe ``progress()``); ``elapsed()``:
        the recording's time in seconds (pauses excluded). Any thread."""
        with self._lock:
            self._elapsed[upload.id] = elapsed
            self._sources[upload.id] = upload

    def notification_id(self, upload_id: Any = None) -> int | None:
        track = self._tracks.get(upload_id)
        return track.nid if track else None

    @property
    def _caps(self) -> frozenset[str]:
        return frozenset(getattr(self.notifier, "capabilities", frozenset()))

    def __call__(self, event: object) -> None:
        self.on_event(event)

    # -- events ------------------------------------------------------------------------------------------
    def on_event(self, event: object) -> None:
        """The engine's ``UploadProgress`` / ``StateChanged`` events; anything else is ignored."""
        match event:
            case UploadProgress(snapshot=snapshot):
                self.on_progress(snapshot)
            case StateChanged():
                self._on_state_changed(event)

    def _on_state_changed(self, event: StateChanged) -> None:
        change = ProgressSnapshot(upload_id=event.upload_id, kind=event.kind, state=event.new, url=event.url,
                                  error=event.error or event.reason or None)
        if self._classify(change) != "progress":
            self.on_progress(change)  # offline / login / failed / completed: shown from the change itself
            return
        with self._lock:
            track = self._tracks.get(event.upload_id)
            last = track.last_event if track is not None else None
        if last is None:
            return  # nothing to show yet: the engine's progress event (bytes, finished) follows at once
        self.on_progress(dataclasses.replace(last, state=event.new, online=True))  # a working state: online

    def on_progress(self, snapshot: ProgressSnapshot) -> None:
        phase = self._classify(snapshot)
        key = snapshot.upload_id
        with self._lock:
            if key is not None and key in self._finished:
                return  # late events after the final notification
            track = self._tracks.setdefault(key, _Track())
            if track.first_seen is None:
                track.first_seen = self.clock()
            try:
                if phase == "progress":
                    self._progress(track, snapshot)
                elif phase != track.phase:
                    track.pending = None
                    getattr(self, f"_show_{phase}")(track, snapshot)
            except Exception as exc:  # noqa: BLE001 - a notification daemon problem must never break uploads
                self._notifier_failed(exc)
                if phase == "progress":
                    return  # try again with the next update
            track.phase = phase
            if phase in ("completed", "failed"):
                del self._tracks[key]  # the next upload starts a fresh notification
                self._elapsed.pop(key, None)
                self._sources.pop(key, None)
                if key is not None:
                    self._finished.add(key)

    def tick(self) -> None:
        """Send the newest held-back progress updates if the rate limit now allows it; keep the time of a
        recording's notification current (and its part count: read from the upload itself)."""
        with self._lock:
            sources = list(self._sources.items())
        for key, upload in sources:  # outside our lock: progress() takes the engine's
            try:
                current = upload.progress()
            except Exception as exc:  # noqa: BLE001 - a display refresh must never fail the caller
                log.debug("progress of upload %s unavailable: %s", key, exc)
                continue
            self.on_progress(dataclasses.replace(current, upload_id=key))
        with self._lock:
            for key, track in self._tracks.items():
                if (track.phase == "progress" and track.last_event is not None and track.last_event.recording
                        and self.show_progress and "update_in_place" in self._caps):
                    track.pending = self._recording_text(key, track, track.last_event)
                if track.pending and self._allowed(track):
                    try:
                        self._send_progress(track, *track.pending)
                    except Exception as exc:  # noqa: BLE001
                        track.pending = None
                        self._notifier_failed(exc)

    failures = 0

    def _notifier_failed(self, exc: BaseException) -> None:
        self.failures += 1
        if self.failures == 1 or self.failures % 100 == 0:  # say it, but do not flood the log
            log.warning("notification failed (%d so far): %s: %s", self.failures, type(exc).__name__, exc)

    # -- classification -------------------------------------------------------------------------------------
    @staticmethod
    def _classify(snapshot: ProgressSnapshot) -> str:
        """Which notification a snapshot calls for: "completed", "auth", "failed", "offline" or "progress"."""
        match snapshot.state:
            case UploadState.COMPLETED:
                return "completed"
            case UploadState.AUTH_REQUIRED:
                return "auth"
            case UploadState.FAILED:
                return "failed"
            case UploadState.PAUSED_OFFLINE:
                return "offline"
            case _:
                return "progress" if snapshot.online else "offline"

    # -- progress ---------------------------------------------------------------------------------------------
    def _progress_text(self, snapshot: ProgressSnapshot) -> tuple[str, str, int]:
        pct = snapshot.percent
        parts = [f"{pct}%"]
        if snapshot.bytes_total:
            parts.append(f"{human_bytes(snapshot.bytes_sent)} of {human_bytes(snapshot.bytes_total)}")
        if snapshot.rate:
            parts.append(f"{human_bytes(snapshot.rate)}/s")
        body = " · ".join(parts)
        if snapshot.parts_failed:
            body += f" · {snapshot.parts_failed} part(s) retrying"
        name = snapshot.filename
        title = ("Finishing upload…" if snapshot.state is UploadState.FINALIZING
                 else f"Uploading {name}…" if name else "Uploading…")
        return title, body, pct

    def _recording_text(self, key: Any, track: _Track, snapshot: ProgressSnapshot) -> tuple[str, str, None]:
        """("Recording 00:12", "3 parts uploaded", no percentage): nothing to measure against while it grows."""
        elapsed = self._elapsed.get(key)
        if elapsed is not None:
            seconds = elapsed()
        else:
            seconds = self.clock() - (track.first_seen if track.first_seen is not None else self.clock())
        parts = snapshot.parts_uploaded
        body = f"{parts} part{'' if parts == 1 else 's'} uploaded" if parts else "No part uploaded yet"
        if snapshot.parts_failed:
            body += f" · {snapshot.parts_failed} retrying"
        return f"Recording {format_elapsed(seconds)}", body, None

    def _allowed(self, track: _Track) -> bool:
        return track.last_sent_at is None or self.clock() - track.last_sent_at >= self.min_interval

    def _progress(self, track: _Track, snapshot: ProgressSnapshot) -> None:
        if not self.show_progress or snapshot.kind == "screenshot":
            return  # a screenshot upload takes a moment: only its final notification is worth showing
        track.last_event = snapshot
        if snapshot.recording:
            title, body, pct = self._recording_text(snapshot.upload_id, track, snapshot)
        else:
            title, body, pct = self._progress_text(snapshot)
        if "update_in_place" not in self._caps:
            if track.nid is None or track.phase != "progress":  # one "started" message, then only the final one
                if pct is None:
                    title, text = "Recording", "It uploads while you record; you get the link when you stop."
                else:
                    text = "Upload started; you will get the link when it is done."
                track.nid = self.notifier.notify(title, text, replaces=track.nid)
            return
        if self._allowed(track):
            self._send_progress(track, title, body, pct)
        else:
            track.pending = (title, body, pct)

    def _send_progress(self, track: _Track, title: str, body: str, pct: int | None) -> None:
        track.pending = None
        if track.last_text == (title, body, pct) and track.phase == "progress":
            return
        track.nid = self.notifier.progress(title, body, pct, replaces=track.nid)
        track.last_sent_at = self.clock()
        track.last_text = (title, body, pct)
        self.sent_updates += 1

    # -- state changes ----------------------------------------------------------------------------------------
    def _wrap(self, fn: Callable[[], None]) -> Callable[[], None]:
        if self.post is None:
            return fn
        return lambda: self.post(fn)

    def _show_completed(self, track: _Track, snapshot: ProgressSnapshot) -> None:
        url = snapshot.url or ""
        actions = {}
        if url and self.copy_link is not None:
            copy = self.copy_link
            actions["copy"] = self._wrap(lambda: copy(url))
        title = "Screenshot uploaded" if snapshot.kind == "screenshot" else "Upload complete"
        track.nid = self.notifier.notify(title, url or "Upload finished.", actions=actions or None,
                                         replaces=track.nid)

    def _show_offline(self, track: _Track, snapshot: ProgressSnapshot) -> None:
        track.nid = self.notifier.notify(
            "Upload paused: offline",
            f"{snapshot.percent}% uploaded. Nothing is lost; the upload will resume automatically when the "
            "connection is back.",
            replaces=track.nid)
        track.last_text = None

    def _show_auth(self, track: _Track, snapshot: ProgressSnapshot) -> None:
        actions = {"login": self._wrap(self.on_login)} if self.on_login else None
        track.nid = self.notifier.notify(
            "Log in to continue uploading",
            "The server rejected the saved login. Run `snaplark login` (or tray menu → Log in); "
            "the upload is kept and continues after you log in.",
            actions=actions, replaces=track.nid, urgency="critical")
        track.last_text = None

    def _show_failed(self, track: _Track, snapshot: ProgressSnapshot) -> None:
        reason = str(snapshot.error or "the server refused the upload").rstrip(".")
        where = snapshot.path
        keep = f" The file is kept at {where}." if where else " The file is kept locally."
        track.nid = self.notifier.notify(
            "Upload failed", f"{reason}.{keep} Retry with `snaplark upload <file>` or from Recent uploads.",
            replaces=track.nid, urgency="critical")
        track.last_text = None


# -- backend choice -----------------------------------------------------------------------------------------------
@dataclass
class NotifierSelection:
    notifier: Any
    backend: str
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def degraded(self) -> bool:
        return bool(self.errors)

    @property
    def user_message(self) -> str | None:
        if not self.errors:
            return None
        why = "; ".join(f"{k}: {v}" for k, v in self.errors.items())
        if self.backend.startswith("fallback:create_log"):
            return ("Desktop notifications are unavailable, so upload progress and links are only shown in the "
                    f"tray menu and the log ({why}).")
        return f"Native notifications are unavailable; using basic notifications without progress ({why})."


def notifier_candidates(os_name: str) -> list[str]:
    # On Linux plyer talks to the same org.freedesktop.Notifications service (notify-send / dbus-python), so when
    # our D-Bus backend cannot reach it plyer cannot either: go straight to the log-only notifier.
    if os_name == "linux":
        return ["linux", "fallback:create_log"]
    return [os_name, "fallback", "fallback:create_log"]


def open_notifier(*, tell_user: Callable[[str], None] | None = None, env: dict | None = None,
                  **kwargs: Any) -> NotifierSelection:
    """Choose and open the notifier (``SNAPLARK_NOTIFIER`` overrides: linux|macos|windows|fallback|
    fallback:create_log). Never raises for a missing service: falls back and tells the user once through
    ``tell_user`` (and the log)."""
    from tray_platform.base import choose_backend, current_os

    env = os.environ if env is None else env
    override = env.get("SNAPLARK_NOTIFIER")
    candidates = [override, "fallback:create_log"] if override else notifier_candidates(current_os())
    choice = choose_backend("notify", candidates, **kwargs)
    selection = NotifierSelection(choice.backend, choice.name, dict(choice.errors))
    message = selection.user_message
    if message:
        log.warning("%s", message)
        if tell_user is not None:
            tell_user(message)
        elif choice.name != "fallback:create_log":
            try:
                choice.backend.notify("Snaplark", message)
            except Exception:  # noqa: BLE001
                log.exception("could not show the notifier fallback message")
    return selection
