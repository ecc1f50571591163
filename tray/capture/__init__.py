"""Screenshots and screen recording, OS-neutral (OS adapters: ``tray_platform.<os>.capture`` / ``display``).

Public API (import the submodules; this package imports nothing heavy so ``import tray`` needs no display):
- ``tray.capture.screenshot.capture_png(target=None, *, cursor=False) -> bytes``: target = ``Region``, monitor
  index (0-based) or None (all monitors).
- ``tray.capture.recorder.Recorder(path, *, region|monitor, fps, bitrate, cursor, countdown, max_duration,
  sink|sink_factory, ...)`` with ``prepare() -> metadata``, ``start()``, ``pause()``, ``resume()``,
  ``request_stop()``, ``stop() -> RecordingResult | None``, ``wait(timeout)``, ``state``, ``stats``.
- ``tray.capture.sink.RecordingSink``: ``durable(nbytes)``, ``finished(total_bytes, duration, metadata)``,
  ``failed(reason)`` -- implemented by the upload engine's ``RecordingUpload``; ``NullSink`` keeps files local.
- Errors: ``tray.capture.errors.InvalidCaptureTarget`` (ValueError), ``NoDisplayError``, ``RecorderStateError``.
"""
