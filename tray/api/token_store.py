"""API tokens in the OS keyring, one per server URL (service ``snaplark``).

The token lives only in the keyring (Secret Service on Linux through gnome-keyring or KWallet, Keychain on macOS,
Credential Manager on Windows). There is deliberately no plaintext fallback: when the only backends available are
the ``fail``/``null`` ones or file-based ones from ``keyrings.alt``, every operation raises
:class:`KeyringUnavailable` whose message says how to fix it.

Threading: a :class:`TokenStore` holds no mutable state after construction besides the lazily resolved backend
(resolved under a lock); the Secret Service backend opens a D-Bus connection per call, so one store may be shared
by every thread. The constructor does no I/O.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from tray.log import register_secret

log = logging.getLogger(__name__)

SERVICE = "snaplark"

FIX_HINT = (
    "Snaplark keeps tokens only in the OS keyring and never in a plain file. To fix: "
    "on Linux, install and unlock a Secret Service provider (GNOME Keyring: `apt install gnome-keyring`, "
    "then log in to a desktop session, or KWallet on KDE); in a headless or SSH session start one with "
    "`dbus-run-session -- sh -c 'printf %s \"$PASSWORD\" | gnome-keyring-daemon --unlock --components=secrets; "
    "snaplark ...'`; or choose a backend explicitly with "
    "PYTHON_KEYRING_BACKEND=keyring.backends.SecretService.Keyring (or ...kwallet.DBusKeyring). "
    "`python -m keyring diagnose` shows what keyring found."
)


class KeyringUnavailable(RuntimeError):
    """No secure keyring backend can be used; the message explains why and how to fix it."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(f"no usable keyring: {reason}. {FIX_HINT}")


def normalize_server_url(url: str) -> str:
    """The keyring key for a server: scheme and host lowercased, default port and trailing slash dropped."""
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"server URL must be an http(s) URL, got {url!r}")
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    port = parts.port
    if port is not None and port != {"http": 80, "https": 443}[parts.scheme]:
        host = f"{host}:{port}"
    return urlunsplit((parts.scheme.lower(), host, parts.path.rstrip("/"), parts.query, ""))


def _describe(backend: Any) -> str:
    cls = type(backend)
    return f"{cls.__module__}.{cls.__qualname__}"


def _refusal(backend: Any) -> str | None:
    """Why ``backend`` must not hold a token, or None if it is a real OS keyring."""
    from keyring.backends import chainer, fail, null

    if isinstance(backend, fail.Keyring):
        return "keyring found no backend (keyring.backends.fail.Keyring)"
    if isinstance(backend, null.Keyring):
        return "the keyring is disabled (keyring.backends.null.Keyring)"
    if isinstance(backend, chainer.ChainerBackend):
        return None if _usable_in_chain(backend) else "the keyring chain has no secure backend"
    module = type(backend).__module__
    if module.startswith("keyrings.alt") or "plaintext" in type(backend).__name__.lower():
        return f"{_describe(backend)} stores secrets in a file, which Snaplark refuses"
    return None


def _usable_in_chain(backend: Any) -> list[Any]:
    return [b for b in backend.backends if _refusal(b) is None]


def resolve_backend() -> Any:
    """The keyring backend to use, or :class:`KeyringUnavailable`.

    ``$PYTHON_KEYRING_BACKEND`` wins; otherwise keyring's own choice (its config file, then priority). A chain is
    reduced to its first secure member so a plaintext member is never written to. On Linux, when keyring's
    process-wide choice predates the session bus (keyring caches it), the Secret Service is probed afresh."""
    import keyring
    import keyring.core

    name = os.environ.get("PYTHON_KEYRING_BACKEND", "").strip()
    if name:
        try:
            backend = keyring.core.load_keyring(name)
        except Exception as exc:  # noqa: BLE001 - import errors, RuntimeError from priority checks
            raise KeyringUnavailable(f"PYTHON_KEYRING_BACKEND={name} cannot be used ({exc})") from None
    else:
        backend = keyring.get_keyring()
    reason = _refusal(backend)
    if reason is None:
        from keyring.backends import chainer

        if isinstance(backend, chainer.ChainerBackend):
            backend = _usable_in_chain(backend)[0]
        return backend
    if not name and sys.platform.startswith("linux"):
        fresh = _fresh_secret_service()
        if fresh is not None:
            return fresh
    raise KeyringUnavailable(reason)


def _fresh_secret_service() -> Any:
    try:
        from keyring.backends import SecretService

        SecretService.Keyring.priority  # noqa: B018 - raises RuntimeError when no daemon is reachable
        return SecretService.Keyring()
    except Exception:  # noqa: BLE001 - any failure means "not available"
        return None


class TokenStore:
    """``get``/``set``/``delete`` of the API token for a server URL. Never logs a token."""

    def __init__(self, service: str = SERVICE, backend: Any = None):
        self.service = service
        self._backend = backend
        self._lock = threading.Lock()

    def backend(self) -> Any:
        with self._lock:
            if self._backend is None:
                self._backend = resolve_backend()
            elif _refusal(self._backend) is not None:
                raise KeyringUnavailable(_refusal(self._backend))
            return self._backend

    def backend_name(self) -> str:
        return _describe(self.backend())

    def get(self, server_url: str) -> str | None:
        key = normalize_server_url(server_url)
        token = self._call("read", lambda b: b.get_password(self.service, key))
        if token:
            register_secret(token)
        return token or None

    def set(self, server_url: str, token: str) -> None:
        if not token or token != token.strip():
            raise ValueError("token must be non-empty and have no surrounding whitespace")
        key = normalize_server_url(server_url)
        register_secret(token)
        self._call("store", lambda b: b.set_password(self.service, key, token))
        log.info("stored the token for %s in %s", key, self.backend_name())

    def delete(self, server_url: str) -> bool:
        """Remove the token; True if one was stored."""
        from keyring.errors import PasswordDeleteError

        key = normalize_server_url(server_url)

        def op(b: Any) -> bool:
            try:
                b.delete_password(self.service, key)
            except PasswordDeleteError:
                return False
            return True

        deleted = self._call("delete", op)
        if deleted:
            log.info("deleted the token for %s", key)
        return deleted

    def _call(self, what: str, op: Any) -> Any:
        backend = self.backend()
        try:
            return op(backend)
        except KeyringUnavailable:
            raise
        except Exception as exc:  # noqa: BLE001 - keyring/secretstorage/jeepney errors: locked, daemon gone, ...
            # Only the exception type and its text: keyring errors never contain the secret itself.
            raise KeyringUnavailable(f"cannot {what} the token in {_describe(backend)} "
                                     f"({type(exc).__name__}: {exc})") from None
