"""Parts straight to storage (issue 17): a client PUTs a part to a presigned S3 ``UploadPart`` URL and the server
counts it only after ``ListParts`` shows the bytes the client described -- the server never reads part bytes.

    POST /videos/{sessionId}/parts/{index}/url       {"size", "md5"}  (md5: 32 lowercase hex of the part)
      -> {"url", "method": "PUT", "headers": {"Content-MD5", "Content-Length"}, "expiresIn", "partNumber"}
    POST /videos/{sessionId}/parts/{index}/complete  {"size", "md5", "sha256", "head"}  (head: base64 of the part's
      first 16 bytes, for the container check at finalize)
      -> {"received": true, "chunkIndex", "sha256", "size"}  (what /videos/chunk answers)

Content-MD5 and Content-Length are signed into the URL (SigV4), so S3 itself refuses other bytes; ListParts at count
time checks again (size; ETag = the part's MD5 unless the bucket encrypts with KMS, whose ETags are not MD5s):
a mismatch is ``422 size_mismatch`` / ``422 checksum_mismatch`` and nothing is counted; a part S3 does not hold is
``409 part_not_uploaded``. Counted parts go in the same ``parts`` table as ``/videos/chunk`` parts, so status,
resume and finalize are unchanged. Asking for a URL forgets a part counted earlier at that index (the PUT is about
to replace it in S3; finalize must never name an ETag S3 no longer has).

Offered (``directParts: true`` in the init answer) only with S3 storage and ``direct_parts = true``; otherwise both
routes answer ``501 direct_parts_not_offered`` and clients send parts to ``/videos/chunk``.

Threading: like `UploadService` (blocking, worker threads, the session's lock around everything that touches it).
"""

from __future__ import annotations

import base64
import binascii
import logging
import re
from typing import Any, Awaitable, Callable

from fastapi import FastAPI, Request
from starlette.concurrency import run_in_threadpool

from .config import ServerConfig
from .errors import ApiError, invalid, session_not_found, too_large
from .upload_rules import HEAD_BYTES, SHA256_RE, _check_keys, _is_int, parse_chunk_index
from .uploads import UploadService
from .users import User

log = logging.getLogger(__name__)

MD5_RE = re.compile(r"^[0-9a-f]{32}$")
URL_FIELDS = ("size", "md5")
COMPLETE_FIELDS = ("size", "md5", "sha256")


class S3PartSigner:
    """Presigned UploadPart URLs and the one-part ListParts check, with clients of its own (SigV4 always: the
    signature binds Content-MD5 and Content-Length; signed for the endpoint clients reach)."""

    def __init__(self, config: ServerConfig) -> None:
        import boto3
        from botocore.config import Config as BotoConfig

        from .storage.s3 import _RetryableTranslatingClient

        self.bucket = config.s3_bucket
        self.prefix = config.s3_prefix or ""
        self.expiry = int(config.direct_part_url_expiry)
        common = dict(region_name=config.s3_region, config=BotoConfig(
            signature_version="s3v4", retries={"max_attempts": max(1, config.s3_max_attempts), "mode": "standard"},
            request_checksum_calculation="when_required", response_checksum_validation="when_required",
            connect_timeout=10, read_timeout=60))
        self._signer = boto3.client("s3", endpoint_url=config.s3_presign_endpoint_url or config.s3_endpoint_url,
                                    **common)
        self._client = _RetryableTranslatingClient(boto3.client("s3", endpoint_url=config.s3_endpoint_url, **common))

    def presign(self, key: str, upload_id: str, index: int, size: int, md5_b64: str) -> str:
        return self._signer.generate_presigned_url(
            "upload_part", ExpiresIn=self.expiry, HttpMethod="PUT",
            Params={"Bucket": self.bucket, "Key": self.prefix + key, "UploadId": upload_id, "PartNumber": index + 1,
                    "ContentMD5": md5_b64, "ContentLength": size})

    def held(self, key: str, upload_id: str, index: int) -> tuple[int, str] | None:
        """``(size, etag)`` of the part S3 holds at ``index``; None when it holds none. Raises KeyError when the
        multipart upload itself is gone. One ListParts call starting at the part (PartNumberMarker = index); when
        that does not show it, the whole listing (moto 5.2 reads the marker as a position in the list)."""
        found = self._list(key, upload_id, index, 1)
        if found is not None and found[0] == index + 1:
            return found[1], found[2]
        marker = 0
        while True:
            resp = self._list_page(key, upload_id, marker, 1000)
            for part in resp.get("Parts", []):
                if int(part["PartNumber"]) == index + 1:
                    return int(part["Size"]), str(part["ETag"])
            if not resp.get("IsTruncated"):
                return None
            marker = int(resp["NextPartNumberMarker"])

    def _list(self, key: str, upload_id: str, marker: int, count: int) -> tuple[int, int, str] | None:
        parts = self._list_page(key, upload_id, marker, count).get("Parts", [])
        return (int(parts[0]["PartNumber"]), int(parts[0]["Size"]), str(parts[0]["ETag"])) if parts else None

    def _list_page(self, key: str, upload_id: str, marker: int, count: int) -> dict:
        from botocore.exceptions import ClientError

        try:
            return self._client.list_parts(Bucket=self.bucket, Key=self.prefix + key, UploadId=upload_id,
                                           PartNumberMarker=marker, MaxParts=count)
        except ClientError as exc:
            if str(exc.response.get("Error", {}).get("Code", "")) in ("NoSuchUpload", "404"):
                raise KeyError(upload_id) from None
            raise


def _size(body: dict, max_part_size: int) -> int:
    size = body["size"]
    if not _is_int(size) or size <= 0:
        raise invalid("size: expected a positive integer (the part's bytes)")
    if size > max_part_size:
        raise too_large(f"size: a part may be at most {max_part_size} bytes")
    return size


def _md5(body: dict) -> str:
    md5 = body["md5"]
    if not isinstance(md5, str) or not MD5_RE.match(md5):
        raise invalid("md5: expected 32 lowercase hex digits (the part's MD5)")
    return md5


def _head(body: dict, index: int) -> bytes | None:
    raw = body.get("head")
    if raw is None:
        if index == 0:
            raise invalid("head: required for part 0 (base64 of its first 16 bytes, for the container check)")
        return None
    try:
        head = base64.b64decode(raw, validate=True) if isinstance(raw, str) else None
    except (binascii.Error, ValueError):
        head = None
    if head is None or not 0 < len(head) <= HEAD_BYTES:
        raise invalid(f"head: expected base64 of the part's first 1..{HEAD_BYTES} bytes")
    return head


class DirectParts:
    def __init__(self, service: UploadService, signer: S3PartSigner | None) -> None:
        self.service = service
        self.signer = signer
        self.config = service.config

    def _offered(self) -> S3PartSigner:
        if self.signer is None:
            raise ApiError(501, "direct_parts_not_offered",
                           "this server does not take parts straight to storage; send them to /videos/chunk")
        return self.signer

    def _open_session(self, user: User, session_id: str, raw_index: str) -> tuple[Any, int]:
        index = parse_chunk_index(raw_index, self.config.max_parts)
        return self.service.session_row(user, session_id), index

    def part_url(self, user: User, session_id: str, raw_index: str, body: Any) -> dict[str, Any]:
        signer = self._offered()
        if not isinstance(body, dict):
            raise invalid("expected a JSON object")
        _check_keys(body, URL_FIELDS)
        size, md5 = _size(body, self.config.max_part_size), _md5(body)
        svc = self.service
        row, index = self._open_session(user, session_id, raw_index)
        with svc.session_lock(session_id):
            row = svc.session_row(user, session_id)
            if row["state"] != "open":
                raise ApiError(409, "session_finalized", "the session is already finalized")
            held = svc.db.query_one("SELECT size FROM parts WHERE session_id = ? AND idx = ?", (session_id, index))
            svc.limits.check_bytes(user.id, size, held["size"] if held is not None else 0)
            md5_b64 = base64.b64encode(bytes.fromhex(md5)).decode("ascii")
            url = signer.presign(row["object_key"], row["upload_id"], index, size, md5_b64)
            with svc.db.write() as conn:  # the PUT replaces the part in S3: its old row must not name it any more
                conn.execute("DELETE FROM parts WHERE session_id = ? AND idx = ?", (session_id, index))
                conn.execute("UPDATE sessions SET last_activity = ? WHERE id = ?", (svc.clock(), session_id))
        return {"url": url, "method": "PUT", "headers": {"Content-MD5": md5_b64, "Content-Length": str(size)},
                "expiresIn": signer.expiry, "partNumber": index + 1}

    def complete(self, user: User, session_id: str, raw_index: str, body: Any) -> dict[str, Any]:
        signer = self._offered()
        if not isinstance(body, dict):
            raise invalid("expected a JSON object")
        _check_keys(body, COMPLETE_FIELDS, ("head",))
        size, md5 = _size(body, self.config.max_part_size), _md5(body)
        sha = body["sha256"]
        if not isinstance(sha, str) or not SHA256_RE.match(sha):
            raise invalid("sha256: expected 64 lowercase hex digits")
        svc = self.service
        row, index = self._open_session(user, session_id, raw_index)
        head = _head(body, index)
        answer = {"received": True, "chunkIndex": index, "sha256": sha, "size": size}
        with svc.session_lock(session_id):
            row = svc.session_row(user, session_id)
            if row["state"] == "finalized":
                held = svc.db.query_one("SELECT sha256 FROM parts WHERE session_id = ? AND idx = ?",
                                        (session_id, index))
                if held is not None and held["sha256"] == sha:
                    return answer  # a harmless repeat of a counted part
                raise ApiError(409, "session_finalized", "the session is already finalized")
            try:
                stored = signer.held(row["object_key"], row["upload_id"], index)
            except KeyError:  # the multipart upload was aborted behind our back: the session is gone
                svc.drop_lost_session(row)
                raise session_not_found() from None
            if stored is None:
                raise ApiError(409, "part_not_uploaded",
                               f"storage holds no part {index}: PUT it to the URL first (or send it to /videos/chunk)",
                               chunkIndex=index, missing=[index])
            stored_size, etag = stored
            if stored_size != size:
                raise ApiError(422, "size_mismatch", f"storage holds {stored_size} bytes for part {index}, the "
                               f"client said {size}; the part was not counted, send it again",
                               chunkIndex=index, expected=size, actual=stored_size)
            plain = etag.strip('"').lower()
            if MD5_RE.match(plain) and plain != md5:  # a KMS bucket's ETag is no MD5: S3's Content-MD5 check stands
                raise ApiError(422, "checksum_mismatch", f"the MD5 of part {index} in storage ({plain}) is not the "
                               f"client's ({md5}); the part was not counted, send it again",
                               chunkIndex=index, expected=md5, actual=plain)
            held = svc.db.query_one("SELECT size FROM parts WHERE session_id = ? AND idx = ?", (session_id, index))
            svc.limits.check_bytes(user.id, size, held["size"] if held is not None else 0)
            svc.count_part(user, session_id, index, size, sha, etag, head)
        svc.audit.record("video.part.direct", user=user.name, sessionId=session_id, index=index, size=size)
        return answer


def register_direct_part_routes(app: FastAPI, *, service: UploadService, storage: Any, api_prefix: str,
                                current_user: Callable[[Request], Awaitable[User]],
                                read_json: Callable[[Request], Awaitable[Any]]) -> DirectParts:
    """The two routes; offered (and advertised in the init answer) only when the storage is S3 and the config's
    ``direct_parts`` is on."""
    config = service.config
    signer = S3PartSigner(config) if getattr(storage, "name", "") == "s3" and config.direct_parts else None
    direct = DirectParts(service, signer)
    service.offers_direct_parts = signer is not None

    async def part_url(request: Request, session_id: str, index: str) -> dict:
        user = await current_user(request)
        body = await read_json(request)
        return await run_in_threadpool(direct.part_url, user, session_id, index, body)

    async def part_complete(request: Request, session_id: str, index: str) -> dict:
        user = await current_user(request)
        body = await read_json(request)
        return await run_in_threadpool(direct.complete, user, session_id, index, body)

    app.add_api_route(api_prefix + "/videos/{session_id}/parts/{index}/url", part_url, methods=["POST"])
    app.add_api_route(api_prefix + "/videos/{session_id}/parts/{index}/complete", part_complete, methods=["POST"])
    return direct
