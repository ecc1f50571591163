"""What an upload's waiter can be told (the API client's own error types live in :mod:`tray.api.errors`)."""

from __future__ import annotations

from tray.upload.cutter import LocalFileError


class UploadFailed(RuntimeError):
    """The upload ended in FAILED; ``error`` says why. The local file and the journal entry are kept."""

    def __init__(self, upload_id: int, error: str):
        super().__init__(error)
        self.upload_id = upload_id
        self.error = error


class LoginRequired(UploadFailed):
    """``wait(stop_on_login=True)``: the server refused the token; the upload waits in the journal for a login."""


class CorruptLocalFile(LocalFileError):
    """The server rejected a part's checksum three times in a row: the local file reads back differently."""


class Stopped(Exception):
    """The engine is stopping: a worker leaves its session as the journal describes it."""


class Restart(Exception):
    """Start the session's protocol over (after a re-init)."""


__all__ = ["UploadFailed", "LoginRequired", "CorruptLocalFile", "LocalFileError", "Stopped", "Restart"]
