"""``snaplark upload FILE...``: PNG/JPEG through the screenshot endpoint, WebM/MP4 in parts; prints each URL.

The server is ``--server URL`` (token from ``$SNAPLARK_TOKEN`` or the keyring), else the configured one through the
services (:func:`tray.services.connect_server`, which starts the embedded server when ``server.url`` is empty).
Every upload goes through the durable journal: an interrupted run (Ctrl-C, crash, kill) is picked up again by
``snaplark upload --resume`` or by the tray app at its next start.

Exit status: 0 all uploaded; 1 a file or the server was refused (message on stderr); 2 usage; 130 interrupted.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import threading
from pathlib import Path
from typing import Any

from tray.api.errors import ApiError
from tray.commands.expiry_option import add_expires_argument

log = logging.getLogger(__name__)

TOKEN_ENV = "SNAPLARK_TOKEN"
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="*", type=Path, metavar="FILE", help="PNG/JPEG screenshots, WebM/MP4 videos")
    parser.add_argument("--server", metavar="URL", help="API base URL (default: server.url from the settings; "
                                                        "empty there = the embedded server)")
    parser.add_argument("--resume", action="store_true",
                        help="also finish every interrupted upload found in the journal")
    parser.add_argument("--retry", type=int, action="append", default=[], metavar="ID",
                        help="try a failed upload again (its #ID in `snaplark status --all`); repeatable")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--verify", action="store_true",
                        help="download each uploaded file again and compare its sha256 with the local file")
    parser.add_argument("--timeout", type=float, default=None, metavar="SECONDS",
                        help="give up waiting after this long (the journal keeps the upload for later)")
    add_expires_argument(parser)


def _err(msg: str) -> None:
    print(f"snaplark upload: {msg}", file=sys.stderr)


def connect(args: argparse.Namespace) -> Any:
    """A ``ServerConnection`` (``api_url``, ``token_provider``, ``client(**kw)``, ``close()``)."""
    from tray.services import ServerConnection, connect_server

    if args.server:
        url = args.server.rstrip("/")
        env_token = os.environ.get(TOKEN_ENV, "").strip()
        if env_token:
            from tray.log import register_secret

            register_secret(env_token)
            return ServerConnection(url, lambda: env_token)
        from tray.api.token_store import TokenStore

        store = TokenStore()

        def provider() -> str | None:
            try:
                return store.get(url)
            except Exception as exc:  # noqa: BLE001 - no keyring: the server will answer 401, reported below
                log.warning("keyring unavailable: %s", exc)
                return None

        return ServerConnection(url, provider)
    from tray import config

    settings = config.load_config(config.resolve_path(getattr(args, "config", None)))
    return connect_server(settings)


def run(args: argparse.Namespace, *, connection: Any = None, journal: Any = None) -> int:
    """``connection``/``journal`` let the composition root or tests supply their own."""
    from tray.upload.engine import LocalFileError, check_uploadable
    from tray.upload.journal import JournalError, UploadJournal, default_journal_path

    retry = list(getattr(args, "retry", []) or [])
    if not args.files and not args.resume and not retry:
        _err("no FILE given (or pass --resume / --retry ID)")
        return EXIT_USAGE
    status = EXIT_OK
    files: list[Path] = []
    for f in args.files:
        try:
            check_uploadable(f)
        except LocalFileError as exc:
            _err(str(exc))
            status = EXIT_FAILED
            continue
        files.append(f)
    if not files and not args.resume and not retry:
        return status

    own_journal = journal is None
    try:
        journal = journal or UploadJournal(default_journal_path()).open()
    except JournalError as exc:
        _err(str(exc))
        return EXIT_FAILED
    own_connection = connection is None
    try:
        if connection is None:
            connection = connect(args)
    except Exception as exc:  # ServerUnavailable, ConfigError, keyring errors: all user-facing
        _err(str(exc))
        if own_journal:
            journal.close()
        return EXIT_FAILED
    try:
        problem = _check_server(connection)
        if problem:
            _err(problem)
            return EXIT_FAILED
        return max(status, _upload(args, connection, journal, files))
    finally:
        if own_connection:
            connection.close()
        if own_journal:
            journal.close()


def _check_server(connection: Any) -> str | None:
    from tray.api.server_check import preflight

    client = connection.client(connect_timeout=5.0, min_read_timeout=10.0)
    try:
        return preflight(client)
    finally:
        client.close()


class _Bars:
    """One tqdm bar per upload, fed by progress events from worker threads."""

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self._bars: dict[int, Any] = {}
        self._closed: set[int] = set()
        self._lock = threading.Lock()

    def __call__(self, event: object) -> None:
        from tray.upload.events import UploadProgress

        if not self.enabled or not isinstance(event, UploadProgress):
            return
        p = event.snapshot
        with self._lock:
            if event.upload_id in self._closed:
                return
            bar = self._bars.get(event.upload_id)
            if bar is None:
                from tqdm import tqdm

                bar = tqdm(total=p.bytes_total or None, unit="B", unit_scale=True, unit_divisor=1024,
                           desc=(p.filename or "")[:30], file=sys.stderr, leave=True, disable=None)
                self._bars[event.upload_id] = bar
            if p.bytes_total and bar.total != p.bytes_total:
                bar.total = p.bytes_total
            bar.n = p.bytes_sent
            bar.set_postfix_str(p.state.value + ("" if p.online else " (offline)"), refresh=False)
            bar.refresh()

    def finish(self, upload_id: int, total: int | None) -> None:
        with self._lock:
            self._closed.add(upload_id)
            bar = self._bars.pop(upload_id, None)
            if bar is not None:
                if total:
                    bar.n = total
                bar.close()

    def close(self) -> None:
        with self._lock:
            self._closed.update(self._bars)
            for bar in self._bars.values():
                bar.close()
            self._bars.clear()


def _upload_settings(args: argparse.Namespace) -> Any:
    """The settings for ``upload.copy`` (which link is printed: the share page or the file) and ``upload.expires``;
    None when they cannot be read (with ``--server`` they are not needed otherwise: the defaults apply)."""
    from tray import config

    try:
        return config.load_config(config.resolve_path(getattr(args, "config", None)))
    except Exception as exc:  # noqa: BLE001 - ConfigError, unreadable file: the link choice is not worth failing for
        log.warning("settings not read (%s); upload.copy = page, upload.expires = never", exc)
        return None


def _upload(args: argparse.Namespace, connection: Any, journal: Any, files: list[Path]) -> int:
    from tray.upload.cutter import file_sha256
    from tray.upload.engine import LocalFileError, LoginRequired, UploadEngine, UploadFailed
    from tray.upload.journal import JournalError

    from tray.commands import expiry_option

    bars = _Bars(enabled=not args.no_progress)
    settings = _upload_settings(args)
    expiry = expiry_option.metadata_for(args)
    engine = UploadEngine(connection.client, journal, on_event=bars, server_url=connection.api_url,
                          copy=settings.upload.copy if settings is not None else "page",
                          expires_in=expiry_option.default_seconds(settings))
    status = EXIT_OK
    try:
        uploads = engine.resume_all() if args.resume else []
        for upload_id in getattr(args, "retry", []) or []:
            rec = journal.get_session(upload_id)
            if rec is None or rec.state != "failed":
                _err(f"#{upload_id}: no failed upload with this id (`snaplark status --all` lists them)")
                status = EXIT_FAILED
                continue
            try:
                uploads.append(engine.retry(upload_id))
            except RuntimeError as exc:
                _err(f"#{upload_id}: {exc}")
                status = EXIT_FAILED
        for f in files:
            try:
                uploads.append(engine.upload_file(f, expiry))
            except (LocalFileError, JournalError) as exc:
                _err(str(exc))
                status = EXIT_FAILED
        for up in uploads:
            try:
                url = up.wait(args.timeout, stop_on_login=True)
            except LoginRequired:
                bars.finish(up.id, None)
                _err(f"{up.path}: {connection.api_url} refused the token (401); log in with `snaplark login "
                     f"--server {connection.api_url}`, then `snaplark upload --resume` finishes it (it is kept)")
                status = EXIT_FAILED
                continue
            except UploadFailed as exc:
                bars.finish(up.id, None)
                _err(f"{up.path}: {exc.error} (the file is kept; `snaplark status` lists it)")
                status = EXIT_FAILED
                continue
            except TimeoutError:
                _err(f"{up.path}: not done after {args.timeout} s; it stays queued (`snaplark upload --resume`)")
                status = EXIT_FAILED
                continue
            if args.verify:
                problem = _verify(connection, up.file_url or url, file_sha256(up.path))  # the file, not its page
                if problem:
                    _err(f"{up.path}: {problem}")
                    status = EXIT_FAILED
                    continue
            bars.finish(up.id, up.progress().bytes_total)
            print(url, flush=True)
            expiry_option.report(up, "snaplark upload", connection.api_url)
    except KeyboardInterrupt:
        _err("interrupted; unfinished uploads stay in the journal (`snaplark status`, `snaplark upload --resume`)")
        status = EXIT_INTERRUPTED
    finally:
        engine.stop(10)
        bars.close()
    return status


def _verify(connection: Any, url: str, expected: str) -> str | None:
    import hashlib

    h = hashlib.sha256()

    class _Sink:
        def write(self, block: bytes) -> None:
            h.update(block)

    client = connection.client()
    try:
        client.download(url, _Sink())
    except ApiError as exc:
        return f"could not download {url} to verify it: {exc}"
    finally:
        client.close()
    if h.hexdigest() != expected:
        return f"the server's copy at {url} differs from the local file (sha256 {h.hexdigest()} != {expected})"
    return None
