"""FastAPI application: the seed upload API plus extensions (see shared/API.md), under ``/api/v1``.

`create_app(config, clock=time.time)` builds the database, the storage backend and the `UploadService`, and
wires routes, JSON error handlers, the session-expiry cleanup task and (only if ``config.fault_injection``) the
fault-injection middleware.  ``app.state.service`` / ``app.state.faults`` are there for tests and the runner.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import json
import logging
import sqlite3
import time
from typing import Any, Callable

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from .config import ServerConfig
from .databases import open_database
from .direct_parts import register_direct_part_routes
from .disk_space import DiskReserve, FreeSpace, is_disk_full, storage_full
from .errors import ApiError, DatabaseUnavailable, invalid, unauthorized
from .audit import AuditLog
from .faults import FaultInjector, FaultMiddleware
from .links import SiteLinks
from .media_jobs import JOB_LEASE, MEASURE, MediaJobs
from .metrics import CONTENT_TYPE_LATEST, InstrumentedStorage, ServerMetrics
from .multipart_stream import MULTIPART_OVERHEAD, check_content_length, parse_form
from .observability import AccessLog, HealthCheck, ObservabilityMiddleware
from .private_files import make_private_dir
from .retention import expiry_loop
from .share_routes import register_share_routes
from .shares import ShareService
from .storage import StorageUnavailable, make_storage
from .uploads import UploadService
from .users import TokenRejected, User, check_token

log = logging.getLogger(__name__)

API_PREFIX = "/api/v1"
MAX_JSON_BODY = 1024 * 1024
_STATUS_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
                 405: "method_not_allowed", 413: "too_large", 415: "unsupported_media_type", 422: "invalid_request"}


def _error_response(status: int, code: str, message: str, headers: dict | None = None, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": code, "message": message, **extra}, status_code=status, headers=headers)


def create_app(config: ServerConfig, *, clock: Callable[[], float] = time.time,
               free_space: FreeSpace | None = None) -> FastAPI:
    """``free_space(path) -> bytes``: how free space is measured (default: the file system's; tests fake it)."""
    config.check_shared_storage()
    make_private_dir(config.data_dir)
    db = open_database(config)  # SQLite in the data dir, or PostgreSQL (database_url) shared by several instances
    metrics = ServerMetrics(db)
    storage = InstrumentedStorage(make_storage(config), metrics)  # storage calls timed for /metrics
    storage.start()
    audit = AuditLog(config.data_dir, clock)
    shares = ShareService(config, db, storage, clock=clock, audit=audit)  # share pages, posters, delete, trim
    # a video's duration and poster are measured by a background worker after finalize answered (media_jobs.py)
    media_jobs = MediaJobs(db, {MEASURE: shares.measure_video}, clock=clock,
                           lease=0.0 if config.database_url is None else JOB_LEASE)  # several instances: a lease
    service = UploadService(config, db, storage, clock=clock, audit=audit, media_jobs=media_jobs)
    links = SiteLinks(config)  # every absolute URL handed out: site_url, else an allowed Host (links.py)
    removed = service.remove_orphans()
    if removed:
        log.info("removed %d session director(y/ies) without an open session", removed)
    disk = DiskReserve(config.data_dir, config.min_free_bytes, free_space)
    health_check = HealthCheck(db.path, disk, db_check=getattr(db, "check", None))
    access_log = AccessLog.from_config(config)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        media_jobs.start()  # also runs the jobs a previous run left pending
        expiry = asyncio.create_task(expiry_loop(shares, db, config.cleanup_interval))  # expired uploads (retention.py)
        task = asyncio.create_task(_cleanup_loop(service, db, config.cleanup_interval))
        try:
            yield
        finally:
            for each in (task, expiry):
                each.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await each
            await run_in_threadpool(media_jobs.stop)
            if access_log is not None:
                access_log.close()
            audit.close()

    app = FastAPI(title="Snaplark reference server", docs_url=None, redoc_url=None, openapi_url=None,
                  lifespan=lifespan)
    app.state.config = config
    app.state.db = db
    app.state.storage = storage
    app.state.service = service
    app.state.shares = shares
    app.state.media_jobs = media_jobs
    app.state.disk = disk
    app.state.faults = None
    app.state.metrics = metrics
    app.state.audit = audit

    # --- errors: always JSON {"error", "message"} ------------------------------------------------------------

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return _error_response(exc.status, exc.code, exc.message, exc.headers, **exc.extra)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _STATUS_CODES.get(exc.status_code, f"http_{exc.status_code}")
        message = exc.detail if isinstance(exc.detail, str) else code
        if exc.status_code == 404:
            message = f"no such resource: {request.url.path[:200]}"
        return _error_response(exc.status_code, code, message, getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        return _error_response(422, "invalid_request", f"{where}: {first.get('msg', 'invalid input')}")

    @app.exception_handler(StorageUnavailable)
    async def _storage_unavailable(request: Request, exc: StorageUnavailable) -> JSONResponse:
        log.warning("storage unavailable on %s %s: %s", request.method, request.url.path, exc)
        return _error_response(503, "storage_unavailable", "storage temporarily unavailable, retry later",
                               {"Retry-After": "5"})

    @app.exception_handler(DatabaseUnavailable)
    async def _database_unavailable(request: Request, exc: DatabaseUnavailable) -> JSONResponse:
        log.warning("database unavailable on %s %s: %s", request.method, request.url.path, exc)
        return _error_response(503, "database_unavailable", "database temporarily unavailable, retry later",
                               {"Retry-After": "5"})

    @app.exception_handler(OSError)
    async def _os_error(request: Request, exc: OSError) -> JSONResponse:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            log.error("storage full on %s %s: %s", request.method, request.url.path, exc)
            err = storage_full()
            return _error_response(err.status, err.code, err.message, err.headers, **err.extra)
        log.exception("internal error on %s %s", request.method, request.url.path)
        return _error_response(500, "internal_error", "internal server error")

    @app.exception_handler(sqlite3.Error)
    async def _database_error(request: Request, exc: sqlite3.Error) -> JSONResponse:
        if is_disk_full(exc):  # "database or disk is full": the client retries later, as for ENOSPC
            log.error("database full on %s %s: %s", request.method, request.url.path, exc)
            err = storage_full()
            return _error_response(err.status, err.code, err.message, err.headers, **err.extra)
        log.exception("database error on %s %s", request.method, request.url.path)
        return _error_response(500, "internal_error", "internal server error")

    @app.exception_handler(Exception)
    async def _internal(request: Request, exc: Exception) -> JSONResponse:
        log.exception("internal error on %s %s", request.method, request.url.path)
        return _error_response(500, "internal_error", "internal server error")

    # --- helpers ---------------------------------------------------------------------------------------------

    async def current_user(request: Request) -> User:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise unauthorized()
        try:
            user = await run_in_threadpool(check_token, db, token.strip(), clock())
        except TokenRejected as exc:  # expired, or the user is disabled: say so (a client shows it at login)
            raise ApiError(401, exc.code, exc.message, headers={"WWW-Authenticate": "Bearer"}) from None
        if user is None:
            raise unauthorized()
        request.state.user = user.name  # for the access log (observability.py)
        service.limits.check_rate(user.id)  # 429 rate_limited before any body byte is read
        return user

    def declared_length(request: Request) -> int:
        try:
            return max(0, int(request.headers.get("content-length") or 0))
        except ValueError:
            return 0

    def url_builder(request: Request) -> Callable[[str, str], str]:
        base = links.base(request.scope, request.headers.get("host"))  # never a Host that is not allowed
        files = links.file_base(base)  # a name with an extension is a raw file: user_content_base_url when set
        return lambda kind, name: f"{files if '.' in name else base}/{kind}/{name}"

    async def read_json(request: Request) -> Any:
        ctype = request.headers.get("content-type", "")
        if ctype and not ctype.split(";")[0].strip().lower().endswith("json"):
            raise ApiError(415, "unsupported_media_type", "expected application/json")
        check_content_length(request.headers, MAX_JSON_BODY)
        data = bytearray()
        try:
            async for chunk in request.stream():
                data += chunk
                if len(data) > MAX_JSON_BODY:
                    raise ApiError(413, "too_large", "JSON body too large")
        except ClientDisconnect:  # gone, or cut by the body timeout: nobody to answer, nothing to log
            raise ApiError(400, "client_disconnected", "the request body did not arrive") from None
        try:
            return json.loads(bytes(data))
        except (ValueError, RecursionError):
            raise invalid("body is not valid JSON") from None

    # --- routes ------------------------------------------------------------------------------------------------

    async def health(request: Request) -> Response:
        """``{"status": "ok"}``; with ``?deep=1`` the database and free-space checks (503 when one fails)."""
        if request.query_params.get("deep", "0") in ("", "0", "false"):
            return JSONResponse({"status": "ok"})
        status, body = await run_in_threadpool(health_check.run)
        return JSONResponse(body, status_code=status, headers={"Cache-Control": "no-store"})

    # HEAD too: a load balancer's health check may send it (e.g. HAProxy "option httpchk HEAD /health")
    app.add_api_route("/health", health, methods=["GET", "HEAD"])
    app.add_api_route(f"{API_PREFIX}/health", health, methods=["GET", "HEAD"])

    @app.get("/metrics")
    async def prometheus_metrics(request: Request) -> Response:
        if not config.metrics_public:  # any valid user token (config metrics_public = true: none)
            await current_user(request)
        text = await run_in_threadpool(metrics.render)  # counts the open sessions in the database
        return Response(text, media_type=CONTENT_TYPE_LATEST, headers={"Cache-Control": "no-store"})

    @app.get(f"{API_PREFIX}/me")
    async def me(request: Request) -> dict:
        user = await current_user(request)
        return {"user": user.name}

    @app.post(f"{API_PREFIX}/screenshots/upload")
    async def upload_screenshot(request: Request) -> dict:
        user = await current_user(request)
        check_content_length(request.headers, config.max_screenshot_size + MULTIPART_OVERHEAD)
        await run_in_threadpool(service.limits.check_bytes, user.id)  # already at a byte quota: refuse unread
        disk.check(declared_length(request))  # before a byte is written: 503 while the reserve would be touched
        form = await parse_form(request.stream(), request.headers.get("content-type"), file_field="file",
                                spool_dir=storage.spool_dir, max_file_size=config.max_screenshot_size,
                                max_body=config.max_screenshot_size + MULTIPART_OVERHEAD,
                                want_md5=storage.wants_md5)
        try:
            disk.check()  # a body without Content-Length is measured once spooled
            return await run_in_threadpool(service.store_screenshot, user, form.fields, form.file, url_builder(request))
        finally:
            form.discard()

    @app.post(f"{API_PREFIX}/videos/init")
    async def video_init(request: Request) -> dict:
        user = await current_user(request)
        disk.check(declared_length(request))
        body = await read_json(request)
        return await run_in_threadpool(service.init_session, user, body)

    @app.post(f"{API_PREFIX}/videos/chunk")
    async def video_chunk(request: Request) -> dict:
        user = await current_user(request)
        check_content_length(request.headers, config.max_part_size + MULTIPART_OVERHEAD)
        await run_in_threadpool(service.limits.check_bytes, user.id)
        disk.check(declared_length(request))
        form = await parse_form(request.stream(), request.headers.get("content-type"), file_field="chunk",
                                spool_dir=storage.spool_dir, max_file_size=config.max_part_size,
                                max_body=config.max_part_size + MULTIPART_OVERHEAD,
                                want_md5=storage.wants_md5)
        try:
            disk.check()
            return await run_in_threadpool(service.store_chunk, user, form.fields, form.file)
        finally:
            form.discard()

    @app.get(API_PREFIX + "/videos/{session_id}/status")
    async def video_status(request: Request, session_id: str) -> dict:
        user = await current_user(request)
        return await run_in_threadpool(service.status, user, session_id)

    @app.post(f"{API_PREFIX}/videos/finalize")
    async def video_finalize(request: Request) -> dict:
        user = await current_user(request)
        disk.check(declared_length(request))
        body = await read_json(request)
        return await run_in_threadpool(service.finalize, user, body, url_builder(request))

    register_share_routes(app, shares=shares, storage=storage, links=links, public_base_url=config.public_base_url,
                          api_prefix=API_PREFIX, current_user=current_user, read_json=read_json)
    # parts straight to S3 through presigned URLs, counted after ListParts (direct_parts.py); S3 storage only
    app.state.direct_parts = register_direct_part_routes(app, service=service, storage=storage, api_prefix=API_PREFIX,
                                                         current_user=current_user, read_json=read_json)

    # request ids, access log and request metrics around every route (added after the others = outside them); the
    # fault injection of tests stays outermost: it needs uvicorn's own receive() to drop a connection
    app.add_middleware(ObservabilityMiddleware, metrics=metrics, access_log=access_log, clock=clock)

    if config.fault_injection:
        injector = FaultInjector()
        app.state.faults = injector
        app.add_middleware(FaultMiddleware, injector=injector)

    return app


async def _cleanup_loop(service: UploadService, db: Any, interval: float) -> None:
    while True:
        await asyncio.sleep(interval)
        await run_in_threadpool(cleanup_once, service, db)


def cleanup_once(service: UploadService, db: Any) -> int | None:
    """One round of the cleanup loop, on the leader only (always with SQLite; with PostgreSQL the instance holding
    the leader lock, pg.py): expired sessions aborted, orphan directories removed. The number of sessions expired,
    or None when another instance is the leader."""
    try:
        if not db.is_leader():
            return None
        n = service.cleanup_expired()
        if n:
            log.info("expired %d idle upload session(s)", n)
        removed = service.remove_orphans()
        if removed:
            log.info("removed %d session director(y/ies) without an open session", removed)
        return n
    except Exception:
        log.exception("session cleanup failed")
        return None
