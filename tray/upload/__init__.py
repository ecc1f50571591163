"""Durable chunked upload engine (see ``shared/DESIGN.md``, "Recording → upload, with nothing lost").

Public surface: :class:`~tray.upload.engine.UploadEngine`, :class:`~tray.upload.engine.RecordingUpload`,
:class:`~tray.upload.journal.UploadJournal`, :class:`~tray.upload.state.UploadState` and the events in
:mod:`tray.upload.events`. Importing this package does no I/O.
"""
