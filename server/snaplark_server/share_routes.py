"""The routes a link's recipient uses -- share pages, raw files, posters, oEmbed -- and the owner's actions.

``/v/<id>`` and ``/s/<id>``: the server-rendered page (Jinja2, no script: works with JavaScript off); ``/v/<id>.<ext>``
and ``/s/<id>.<ext>``: the file itself, exactly as before (Range, HEAD), now with ``nosniff``, ``CSP: sandbox``,
``Content-Disposition`` (``?download=1`` = attachment), ``ETag`` / ``If-None-Match`` -> 304; ``/v/<id>.jpg``: the
poster; ``/v/<id>/embed``: the bare player (Twitter player card, oEmbed iframe); ``/oembed?url=...``.
A deleted or expired object answers 410 Gone on every one of them. ``DELETE /api/v1/objects/<id>``,
``PATCH /api/v1/objects/<id>`` (``{"title"}``) and ``POST /api/v1/videos/<id>/trim`` are the owner's (anyone else:
404). Every absolute URL comes from `SiteLinks`.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Awaitable, Callable
from urllib.parse import quote, urlencode, urlsplit

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from .errors import ApiError
from .links import SiteLinks
from .retention import describe_span
from .retention import iso as retention_iso
from .shares import POSTER_CONTENT_TYPE, ObjectView, ShareService
from .storage import StorageBackend
from .users import User

TEMPLATES = Path(__file__).parent / "templates"
RANGE_RE = re.compile(r"^bytes=(\d*)-(\d*)$", re.IGNORECASE)  # a range unit is case-insensitive
ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
RAW_HEADERS = {"x-content-type-options": "nosniff", "content-security-policy": "sandbox",
               "cache-control": "public, no-cache", "accept-ranges": "bytes"}
PAGE_CSP = ("default-src 'self'; script-src 'none'; object-src 'none'; base-uri 'none'; form-action 'none'; "
            "style-src 'self'{extra}; img-src 'self'{extra}; media-src 'self'{extra}; frame-ancestors {frames}")
OEMBED_MAX = 4096
PLACEHOLDER_SIZE = (1280, 720)  # templates/video-placeholder.png


def parse_range(spec: str, size: int) -> tuple[int, int] | str | None:
    """(start, end-exclusive) for one satisfiable range; "unsatisfiable"; None = ignore the header."""
    m = RANGE_RE.match(spec.strip())
    if not m or (not m.group(1) and not m.group(2)):
        return None
    first, last = m.group(1), m.group(2)
    if len(first) > 18 or len(last) > 18:
        return None
    if not first:  # suffix: last N bytes
        n = int(last)
        if n == 0:
            return "unsatisfiable"
        return (max(0, size - n), size) if size else "unsatisfiable"
    start = int(first)
    end = min(int(last) + 1, size) if last else size
    if last and int(last) < start:
        return None
    if start >= size:
        return "unsatisfiable"
    return start, end


def etag_matches(header: str | None, etag: str) -> bool:
    """If-None-Match: ``*`` or any listed tag, weak or strong (RFC 9110 weak comparison)."""
    if not header:
        return False
    tags = [t.strip() for t in header.split(",")]
    return "*" in tags or etag in (t[2:] if t.startswith("W/") else t for t in tags)


def if_match_fails(header: str | None, etag: str) -> bool:
    """If-Match (RFC 9110 13.1.1), which an origin server must evaluate: false unless ``*`` or a listed tag is the
    current ETag by strong comparison (a weak tag never matches) -- then 412."""
    if header is None:
        return False
    tags = [t.strip() for t in header.split(",")]
    return "*" not in tags and etag not in tags


def if_range_allows(header: str | None, etag: str) -> bool:
    """Whether a Range may be honoured under ``If-Range`` (RFC 9110 13.1.5): only when the header is absent or names
    the current ETag by strong comparison. A weak tag or a date (no Last-Modified is sent) never matches: the whole
    file is sent instead, so a download resumed across a trim never splices new bytes onto old ones."""
    return header is None or header.strip() == etag


def human_size(n: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n}"


def human_duration(seconds: float | None) -> str | None:
    if seconds is None:
        return None
    total = int(round(seconds))
    h, rest = divmod(total, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def content_disposition(kind: str, filename: str) -> str:
    return f"{kind}; filename=\"{filename}\"; filename*=UTF-8''{quote(filename)}"


def register_share_routes(app: FastAPI, *, shares: ShareService, storage: StorageBackend, links: SiteLinks,
                          public_base_url: str | None, api_prefix: str,
                          current_user: Callable[[Request], Awaitable[User]],
                          read_json: Callable[[Request], Awaitable[object]]) -> None:
    import jinja2

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True,
                             undefined=jinja2.StrictUndefined)
    css = (TEMPLATES / "share.css").read_bytes()
    placeholder = (TEMPLATES / "video-placeholder.png").read_bytes()  # a video's preview until its poster exists
    icon = (TEMPLATES / "favicon.svg").read_bytes()
    extra_origin = ""
    for other in (public_base_url, links.user_content):  # where the pages' media and images may come from
        if other:
            parts = urlsplit(other)
            extra_origin += f" {parts.scheme}://{parts.netloc}"
    own = links.user_content or ""  # the prefix of this server's own raw files in pages (relative without it)

    def base_of(request: Request) -> str:
        return links.base(request.scope, request.headers.get("host"))

    def file_url(view: ObjectView, base: str) -> str:
        return storage.public_url(view.key) or f"{links.file_base(base)}/{view.route}/{view.id}.{view.ext}"

    def poster_url(view: ObjectView, base: str) -> str | None:
        if not view.poster_key:
            return None
        return storage.public_url(view.poster_key) or f"{links.file_base(base)}/v/{view.id}.jpg"

    def page_csp(frames: str) -> str:
        return PAGE_CSP.format(extra=extra_origin, frames=frames)

    def html(template: str, status: int = 200, frames: str = "'none'", **context) -> HTMLResponse:
        body = env.get_template(template).render(**context)
        return HTMLResponse(body, status_code=status, headers={
            "content-security-policy": page_csp(frames), "x-content-type-options": "nosniff",
            "referrer-policy": "strict-origin-when-cross-origin", "cache-control": "no-cache"})

    def gone(view: ObjectView | None) -> str | None:
        """None while the links of ``view`` work, else "missing", "deleted" or "expired" (retention.py)."""
        return "missing" if view is None else view.gone_reason(shares.clock())

    def gone_page(request: Request, view: ObjectView | None) -> HTMLResponse:
        reason = gone(view)
        if reason == "missing":
            return html("gone.html", 404, base="", title="Not found",
                        message="There is nothing at this link.")
        if reason == "expired":
            return html("gone.html", 410, base="", title="Expired", message="This link has expired.")
        return html("gone.html", 410, base="", title="Deleted",
                    message="This link was deleted by its owner.")

    def gone_error(view: ObjectView) -> ApiError:
        if gone(view) == "expired":
            return ApiError(410, "expired", "this link has expired")
        return ApiError(410, "gone", "this link was deleted")

    async def lookup(kind: str, object_id: str) -> ObjectView | None:
        if not ID_RE.match(object_id):
            return None
        return await run_in_threadpool(shares.find, kind, object_id)

    def page_context(view: ObjectView, base: str) -> dict:
        page_url = f"{base}/{view.route}/{view.id}"
        created = datetime.fromtimestamp(view.created_at, tz=timezone.utc)
        duration = human_duration(view.duration)
        what = "Video" if view.kind == "video" else "Screenshot"
        facts = [f for f in (duration, human_size(view.size)) if f]
        expires = view.expires_at
        poster = poster_url(view, base)
        pw, ph = view.width, view.height
        if pw and pw > 1280:  # media.POSTER_MAX_WIDTH: a wide video's poster is scaled down
            pw, ph = 1280, round(view.height * 1280 / view.width)
        own_file = storage.public_url(view.key) is None
        file_src = f"{own}/{view.route}/{view.id}.{view.ext}" if own_file else file_url(view, base)
        return dict(
            obj=view, base="", title=view.display_title(), page_url=page_url, file_url=file_url(view, base),
            file_src=file_src, download_src=f"{own}/{view.route}/{view.id}.{view.ext}?download=1",
            poster_url=poster, poster_src=(f"{own}/v/{view.id}.jpg" if view.poster_key and
                                           storage.public_url(view.poster_key) is None else poster),
            poster_width=pw, poster_height=ph,
            # previews (og:image, twitter:image) need an image at once: until the background job has made the
            # poster (media_jobs.py), a generic play picture stands in for it
            preview_image=poster or f"{base}/static/video-placeholder.png",
            preview_type="image/jpeg" if poster else "image/png",
            preview_width=pw if poster else PLACEHOLDER_SIZE[0], preview_height=ph if poster else PLACEHOLDER_SIZE[1],
            embed_url=f"{base}/v/{view.id}/embed",
            oembed_url=f"{base}/oembed?{urlencode({'url': page_url, 'format': 'json'})}",
            duration=duration, size=human_size(view.size), date=created.strftime("%Y-%m-%d %H:%M UTC"),
            iso_date=created.strftime("%Y-%m-%dT%H:%M:%SZ"),
            expires_in=None if expires is None else describe_span(max(0.0, expires - shares.clock())),
            expires_iso=None if expires is None else retention_iso(expires),
            description=f"{what} shared with Snaplark ({', '.join(facts)})")

    def raw_response(request: Request, view: ObjectView, key: str, size: int, content_type: str, etag: str,
                     filename: str) -> Response:
        disposition = "attachment" if request.query_params.get("download") == "1" else "inline"
        headers = {**RAW_HEADERS, "content-type": content_type, "etag": etag,
                   "content-disposition": content_disposition(disposition, filename)}
        if if_match_fails(request.headers.get("if-match"), etag):  # e.g. a resume that wants the version it had
            raise ApiError(412, "precondition_failed", "If-Match: the file has changed (its ETag is now "
                           f"{etag})", headers={"etag": etag})
        if etag_matches(request.headers.get("if-none-match"), etag):
            return Response(status_code=304, headers={k: v for k, v in headers.items()
                                                      if k in ("etag", "cache-control", "content-disposition")})
        start, end, status = 0, size, 200
        spec = request.headers.get("range")
        if spec and if_range_allows(request.headers.get("if-range"), etag):
            parsed = parse_range(spec, size)
            if parsed == "unsatisfiable":
                raise ApiError(416, "range_not_satisfiable", "requested range not satisfiable",
                               headers={"content-range": f"bytes */{size}"})
            if parsed is not None:  # a malformed or multi-range header is ignored: the whole file is sent
                start, end = parsed
                status = 206
                headers["content-range"] = f"bytes {start}-{end - 1}/{size}"
        headers["content-length"] = str(end - start)
        if request.method == "HEAD":
            return Response(status_code=status, headers=headers)
        return StreamingResponse(storage.iter_range(key, start, end), status_code=status, headers=headers)

    def user_content_origin(request: Request) -> bool:
        return links.is_user_content_host(request.headers.get("host"))

    def not_on_user_content() -> ApiError:
        return ApiError(404, "not_found", "pages are not served on the user-content origin")

    async def serve(request: Request, kind: str, name: str) -> Response:
        stem, dot, ext = name.partition(".")
        if links.user_content and (not dot) == user_content_origin(request):
            if not dot:  # a page on the user-content origin: never HTML there
                raise not_on_user_content()
            target = f"{links.user_content}{request.url.path}" + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(target, status_code=307, headers={"cache-control": "no-cache"})
        if not dot:  # the page
            view = await lookup(kind, stem)
            if gone(view):
                return gone_page(request, view)
            context = page_context(view, base_of(request))
            return html("video.html" if kind == "video" else "image.html", **context)
        view = await lookup(kind, stem)
        if view is None:
            raise ApiError(404, "not_found", "no such file")
        if kind == "video" and ext == "jpg":  # the poster
            if gone(view):
                raise gone_error(view)
            if not view.poster_key:
                raise ApiError(404, "not_found", "this video has no poster")
            return raw_response(request, view, view.poster_key, view.poster_size or 0, POSTER_CONTENT_TYPE,
                                view.poster_etag, view.download_name().rsplit(".", 1)[0] + "-poster.jpg")
        if ext != view.ext:
            raise ApiError(404, "not_found", "no such file")
        if gone(view):
            raise gone_error(view)
        return raw_response(request, view, view.key, view.size, view.content_type, view.etag, view.download_name())

    @app.api_route("/s/{name}", methods=["GET", "HEAD"])
    async def serve_screenshot(request: Request, name: str) -> Response:
        return await serve(request, "screenshot", name)

    @app.api_route("/v/{name}", methods=["GET", "HEAD"])
    async def serve_video(request: Request, name: str) -> Response:
        return await serve(request, "video", name)

    @app.api_route("/v/{object_id}/embed", methods=["GET", "HEAD"])
    async def embed_video(request: Request, object_id: str) -> Response:
        if user_content_origin(request):
            raise not_on_user_content()
        view = await lookup("video", object_id)
        if gone(view):
            return gone_page(request, view)
        return html("embed.html", frames="*", **page_context(view, base_of(request)))

    @app.api_route("/static/share.css", methods=["GET", "HEAD"])
    async def share_css() -> Response:
        return Response(css, media_type="text/css", headers={"cache-control": "public, max-age=3600",
                                                             "x-content-type-options": "nosniff"})

    async def favicon() -> Response:  # browsers ask for /favicon.ico whatever the page says
        return Response(icon, media_type="image/svg+xml", headers={"cache-control": "public, max-age=86400",
                                                                   "x-content-type-options": "nosniff"})

    @app.api_route("/static/video-placeholder.png", methods=["GET", "HEAD"])
    async def video_placeholder() -> Response:
        return Response(placeholder, media_type="image/png", headers={"cache-control": "public, max-age=86400",
                                                                       "x-content-type-options": "nosniff"})

    app.add_api_route("/static/favicon.svg", favicon, methods=["GET", "HEAD"])
    app.add_api_route("/favicon.ico", favicon, methods=["GET", "HEAD"])

    @app.api_route("/oembed", methods=["GET", "HEAD"])
    async def oembed(request: Request) -> Response:
        fmt = request.query_params.get("format", "json")
        if fmt != "json":
            raise ApiError(501, "not_implemented", "only format=json is served")
        target = request.query_params.get("url", "")
        try:
            path = urlsplit(target).path
        except ValueError as exc:  # e.g. "http://[::1": an unclosed IPv6 host
            raise ApiError(400, "invalid_request", f"url: not a valid URL ({exc})") from None
        m = re.match(r"^/(v|s)/([A-Za-z0-9_-]{1,128})/?$", path or "")
        if not target or len(target) > OEMBED_MAX or m is None:
            raise ApiError(404, "not_found", "url: not a share page of this server")
        kind = "video" if m.group(1) == "v" else "screenshot"
        view = await lookup(kind, m.group(2))
        if view is None:
            raise ApiError(404, "not_found", "no such share page")
        if gone(view):
            raise gone_error(view)
        base = base_of(request)
        ctx = page_context(view, base)
        width, height = _fit(view.width or 1280, view.height or 720, request.query_params.get("maxwidth"),
                             request.query_params.get("maxheight"))
        answer = {"version": "1.0", "provider_name": "Snaplark", "provider_url": base + "/", "title": ctx["title"],
                  "width": width, "height": height}
        if kind == "video":
            answer["type"] = "video"
            answer["html"] = (f'<iframe src="{ctx["embed_url"]}" width="{width}" height="{height}" '
                              f'frameborder="0" allowfullscreen title="{_attr(ctx["title"])}"></iframe>')
            if ctx["poster_url"]:
                answer.update(thumbnail_url=ctx["poster_url"], thumbnail_width=ctx["poster_width"],
                              thumbnail_height=ctx["poster_height"])
        else:
            answer.update(type="photo", url=ctx["file_url"])
        return JSONResponse(answer, headers={"x-content-type-options": "nosniff"})

    # --- the owner's actions ----------------------------------------------------------------------------------

    async def owner(request: Request, object_id: str, what: str = "object") -> User:
        """The caller (401 without a valid token) and a well-formed id (else 404, like someone else's object)."""
        user = await current_user(request)
        if not ID_RE.match(object_id):
            raise ApiError(404, "object_not_found", f"no such {what}")
        return user

    @app.delete(api_prefix + "/objects/{object_id}")
    async def delete_object(request: Request, object_id: str) -> dict:
        user = await owner(request, object_id)
        return await run_in_threadpool(shares.delete, user, object_id)

    @app.patch(api_prefix + "/objects/{object_id}")
    async def patch_object(request: Request, object_id: str) -> dict:
        user = await owner(request, object_id)
        answer = await run_in_threadpool(shares.set_title, user, object_id, await read_json(request))
        view = await lookup("video", object_id) or await lookup("screenshot", object_id)
        return {**answer, "pageUrl": f"{base_of(request)}/{view.route}/{object_id}"}

    @app.post(api_prefix + "/videos/{object_id}/trim")
    async def trim_video(request: Request, object_id: str) -> dict:
        user = await owner(request, object_id, "video")
        answer = await run_in_threadpool(shares.trim, user, object_id, await read_json(request))
        view = await lookup("video", object_id)
        base = base_of(request)
        return {**answer, "url": file_url(view, base), "pageUrl": f"{base}/v/{object_id}"}

    redirect_slashes_safely(app, links)  # consulted per request: it sees the routes registered after these too


def redirect_slashes_safely(app: FastAPI, links: SiteLinks) -> None:
    """Starlette's trailing-slash redirect (``/v/<id>/`` -> ``/v/<id>``) builds its Location from the request's
    ``Host``: ``Host: evil.example`` came back as ``Location: http://evil.example/v/<id>`` (a cache in front would
    keep that for everyone). Same redirect (307, either direction, only to a path a route serves), but from the
    router's fallback and with the base from `SiteLinks`."""
    from starlette.routing import Match, get_route_path

    router = app.router
    router.redirect_slashes = False
    not_found = router.default

    async def fallback(scope, receive, send) -> None:
        path = get_route_path(scope) if scope["type"] == "http" else "/"
        if path != "/":
            other = path.rstrip("/") if path.endswith("/") else path + "/"
            probe = {**scope, "path": scope["path"][:len(scope["path"]) - len(path)] + other}
            if other and any(route.matches(probe)[0] is not Match.NONE for route in router.routes):
                host = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"host"), None)
                query = scope.get("query_string", b"").decode("latin-1")
                target = links.base(scope, host) + other + (f"?{query}" if query else "")
                await RedirectResponse(target, status_code=307)(scope, receive, send)
                return
        await not_found(scope, receive, send)

    router.default = fallback


def _fit(width: int, height: int, max_width: str | None, max_height: str | None) -> tuple[int, int]:
    scale = 1.0
    for limit, size in ((max_width, width), (max_height, height)):
        if limit and limit.isdigit() and 0 < int(limit) < size:
            scale = min(scale, int(limit) / size)
    return max(1, round(width * scale)), max(1, round(height * scale))


def _attr(text: str) -> str:
    return text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")
