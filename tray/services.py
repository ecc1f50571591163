"""Services the tray app and the CLI commands share: the server connection (configured, or the embedded reference
server, woken on first use), and the upload stack (connection + durable journal + engine) opened and closed together.

Built by the composition root (:mod:`tray.app`) and by CLI commands; the UI gets them handed in and imports this
module, never ``tray.app`` or ``tray.commands``. Constructors do no I/O; ``open()``/``connect_server`` do.
"""

from __future__ import annotations

import logging
import socket
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

from tray import paths
from tray.api.client import ApiClient
from tray.api.errors import ApiError

log = logging.getLogger(__name__)

EMBEDDED_USER = "local"
START_TIMEOUT = 30.0  # seconds for the embedded server to import and start


class ServerUnavailable(RuntimeError):
    """The configured or embedded server cannot be reached or started; the message says what to do."""


@dataclass
class ServerConnection:
    """Where the API lives and how to authenticate. ``embedded`` is the in-process server this process runs, if any.

    The token is only reachable through ``token_provider`` (keyring-backed, or an in-memory token for an
    embedded server when no keyring exists); it is never stored on this object's repr or logged.
    """

    api_url: str
    token_provider: Callable[[], str | None] = field(repr=False)
    embedded: Any = None
    on_auth_required: Callable[[], None] | None = field(default=None, repr=False)

    @property
    def root_url(self) -> str:
        return self.api_url[: -len("/api/v1")] if self.api_url.endswith("/api/v1") else self.api_url

    def client(self, **kwargs: Any) -> ApiClient:
        """A new ApiClient (one per thread)."""
        return ApiClient(self.api_url, self.token_provider, on_auth_required=self.on_auth_required, **kwargs)

    def warm(self) -> None:
        """An upload is likely soon: wake the embedded server (it starts on first use, see
        snaplark_server.activation) and load the HTTP client stack, each on a background thread."""
        if self.embedded is not None and not self.embedded.active:
            self.embedded.warm()
            from tray.api.client import preload_http_stack

            threading.Thread(target=preload_http_stack, name="warm-http-client", daemon=True).start()

    def close(self) -> None:
        if self.embedded is not None:
            self.embedded.stop()
            self.embedded = None


def _port_is_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
        return True


def _keyring_token_provider(token_store: Any, url: str) -> Callable[[], str | None]:
    return lambda: token_store.get(url)


def connect_server(settings: Any, *, token_store: Any = None, data_dir: Path | None = None,
                   start_embedded: bool = True, lazy: bool = False) -> ServerConnection:
    """Connect to ``settings.server.url``, or (empty url) to the embedded reference server on 127.0.0.1.

    ``lazy`` (the tray app): the embedded server owns its port at once but starts on first use (see
    snaplark_server.activation); a later start failure is reported through ``connection.embedded.on_failed``.
    Otherwise (CLI commands) it is started before this returns, and a failure is a ServerUnavailable here.

    Embedded mode: if nothing listens on the configured port, start the server in this process with its data under
    ``<data dir>/server`` and register a token for the local user (kept in the keyring, or only in memory when no
    keyring exists). If a Snaplark server already listens there (the tray app of this user), use it with the
    keyring's token.
    """
    if token_store is None:
        from tray.api.token_store import TokenStore

        token_store = TokenStore()
    url = settings.server.url.rstrip("/")
    if url:
        return ServerConnection(url, _keyring_token_provider(token_store, url))

    port = settings.server.embedded_port
    api_url = f"http://127.0.0.1:{port}/api/v1"
    if not _port_is_free("127.0.0.1", port):
        return _attach_to_running_embedded(api_url, token_store, port)
    if not start_embedded:
        raise ServerUnavailable(f"the embedded server is not running on 127.0.0.1:{port}; start `snaplark` first")
    return _start_embedded(api_url, port, token_store, Path(data_dir or paths.data_dir()) / "server", lazy=lazy)


def _attach_to_running_embedded(api_url: str, token_store: Any, port: int) -> ServerConnection:
    probe = ApiClient(api_url, lambda: None, connect_timeout=2.0, min_read_timeout=5.0)
    try:
        ours = probe.probe()  # any HTTP answer = a server is there; ours always has /health
    except ApiError as exc:
        raise ServerUnavailable(f"port {port} on 127.0.0.1 is taken but does not answer HTTP ({exc}); choose "
                                f"another with `snaplark config set server.embedded_port PORT`") from exc
    finally:
        probe.close()
    if not ours:
        raise ServerUnavailable(
            f"port {port} on 127.0.0.1 is taken by a server that is not Snaplark's embedded one (no /health "
            f"there); choose another port with `snaplark config set server.embedded_port PORT`")
    token = _stored_token(token_store, api_url)
    if token is None:
        raise ServerUnavailable(
            f"a Snaplark server already runs on 127.0.0.1:{port} but this session has no token for it in the "
            f"keyring; log in with `snaplark login --server {api_url}`")
    log.info("using the embedded server already running on port %d", port)
    return ServerConnection(api_url, _keyring_token_provider(token_store, api_url))


def _stored_token(token_store: Any, api_url: str) -> str | None:
    try:
        return token_store.get(api_url)
    except Exception as exc:  # noqa: BLE001 - KeyringUnavailable and backend errors are reported by the caller
        log.warning("keyring unavailable: %s", exc)
        return None


class _EmbeddedToken:
    """The local user's token for the embedded server, made ready on first use (keyring access included: the
    keyring stack is ~9 MiB that an idle tray app does not need). Kept in the keyring; only in memory for this run
    when no keyring works (never on disk). Any thread."""

    def __init__(self, token_store: Any, api_url: str, server_dir: Path):
        self._store = token_store
        self._api_url = api_url
        self._server_dir = server_dir
        self._lock = threading.Lock()
        self._memory: str | None = None
        self._ready = False

    def ensure(self) -> None:
        """Look the token up (or create and store one) and register it with the server's user table, once."""
        from snaplark_server.users import new_token, register_token

        with self._lock:
            if self._ready:
                return
            token = _stored_token(self._store, self._api_url)
            if token is None:
                token = new_token()
                try:
                    self._store.set(self._api_url, token)
                except Exception as exc:  # noqa: BLE001 - no keyring: keep the token in memory only
                    self._memory = token
                    log.warning("no usable keyring (%s): the embedded server's token lives in memory for this run "
                                "only", exc)
            self._server_dir.mkdir(parents=True, exist_ok=True)
            register_token(self._server_dir, EMBEDDED_USER, token)
            self._ready = True

    def provide(self) -> str | None:
        self.ensure()
        return self._memory if self._memory is not None else self._store.get(self._api_url)


def _start_embedded(api_url: str, port: int, token_store: Any, server_dir: Path, *,
                    lazy: bool) -> ServerConnection:
    """Own the port now; the server (and the token lookup) wakes on the first connection or on ``warm()``
    (``lazy``), or right away."""
    from snaplark_server.activation import SocketActivatedServer
    from snaplark_server.config import ServerConfig

    token = _EmbeddedToken(token_store, api_url, server_dir)
    # no access log: the tray's own log says what it uploaded (the audit log in server_dir is still kept)
    server = SocketActivatedServer(ServerConfig(host="127.0.0.1", port=port, data_dir=server_dir, access_log="off"),
                                   before_start=token.ensure)
    try:
        server.start()
    except OSError as exc:  # lost a race for the port to another snaplark process
        raise ServerUnavailable(f"cannot start the embedded server on 127.0.0.1:{port}: {exc}") from exc
    if not lazy and not server.wait_active(START_TIMEOUT):
        server.stop()
        raise ServerUnavailable(f"the embedded server on 127.0.0.1:{port} could not start: {server.error}")
    log.info("embedded server listening at %s (data in %s%s)", server.url, server_dir,
             "; starts on first use" if lazy else "")
    return ServerConnection(api_url, token.provide, embedded=server)


@contextmanager
def open_upload_history(journal_path: Path | None = None) -> Iterator[Any]:
    """The upload history (:class:`tray.upload.history.UploadHistory`) over the journal at ``journal_path``
    (default: the data dir's), for a command that only reads it: no server, no engine. The journal is closed on
    exit. Raises ``JournalError`` when the journal cannot be opened."""
    from tray.upload.history import UploadHistory
    from tray.upload.journal import UploadJournal, default_journal_path

    journal = UploadJournal(journal_path or default_journal_path()).open()
    try:
        yield UploadHistory(journal)
    finally:
        journal.close()


class UploadStack:
    """Server connection + durable journal + upload engine + the history read view over that journal, opened and
    closed together.

    Used by the tray app and by the CLI commands that upload (``shot``, ``record``). ``open()`` does the I/O
    (may start the embedded server); ``close()`` stops the engine's workers (unfinished sessions stay in the
    journal and resume at the next start), closes the journal and stops an embedded server this process started.
    """

    def __init__(self, settings: Any, *, connection: ServerConnection | None = None,
                 on_event: Callable[[object], None] | None = None, lazy_server: bool = False):
        self.settings = settings
        self._lazy_server = lazy_server
        self.connection = connection
        self._own_connection = connection is None
        self._on_event = on_event
        self.journal: Any = None
        self.engine: Any = None
        self.history: Any = None  # tray.upload.history.UploadHistory, built once by open()

    def open(self) -> "UploadStack":
        from tray.upload.engine import UploadEngine
        from tray.config.validation import parse_duration
        from tray.upload.history import UploadHistory
        from tray.upload.journal import UploadJournal, default_journal_path

        if self.connection is None:
            self.connection = connect_server(self.settings, lazy=self._lazy_server)
        path = default_journal_path()
        try:
            self.journal = UploadJournal(path).open()
            self.history = UploadHistory(self.journal)
            self.engine = UploadEngine(self.connection.client, self.journal, server_url=self.connection.api_url,
                                       keep_local_copy=self.settings.upload.keep_local_copy,
                                       copy=self.settings.upload.copy,
                                       expires_in=parse_duration(self.settings.upload.expires),
                                       on_event=self._on_event)
        except Exception:
            self.close()
            raise
        return self

    def close(self) -> None:
        if self.engine is not None:
            self.engine.stop()
            self.engine = None
        self.history = None
        if self.journal is not None:
            self.journal.close()
            self.journal = None
        if self.connection is not None and self._own_connection:
            self.connection.close()
            self.connection = None

    def __enter__(self) -> "UploadStack":
        return self.open()

    def __exit__(self, *exc: Any) -> None:
        self.close()
