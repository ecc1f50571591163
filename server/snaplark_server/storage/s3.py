"""S3 multipart storage (boto3): CreateMultipartUpload at init, UploadPart (PartNumber = index + 1, Content-MD5)
per chunk, ListParts for status, CompleteMultipartUpload at finalize, AbortMultipartUpload on expiry.

Works with AWS, MinIO and moto. Credentials come from the standard AWS environment / config files.
Per-part sha256 values are kept in SQLite by the caller (S3 ETags are MD5s).
"""

from __future__ import annotations

import base64
import hashlib
import logging
import uuid
from pathlib import Path
from typing import Iterator

import boto3
from botocore.config import Config as BotoConfig
from botocore.exceptions import BotoCoreError, ClientError

from ..config import ServerConfig
from ..multipart_stream import SpooledFile
from ..private_files import make_private_dir
from .base import AssembledObject, StorageUnavailable, StoredPart, UploadLost, WholeFileMismatch, clear_spool

log = logging.getLogger(__name__)
READ_BLOCK = 256 * 1024


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


_RETRYABLE_CODES = {"SlowDown", "ServiceUnavailable", "InternalError", "RequestTimeout", "503", "500"}


class _RetryableTranslatingClient:
    """Proxy of the boto3 client: transient failures (no connection, 5xx, SlowDown) become `StorageUnavailable`
    so the API answers 503 + Retry-After instead of 500."""

    def __init__(self, client) -> None:
        self._client = client

    def __getattr__(self, name: str):
        method = getattr(self._client, name)

        def call(**kwargs):
            try:
                return method(**kwargs)
            except BotoCoreError as exc:
                raise StorageUnavailable(f"S3 {name}: {type(exc).__name__}") from exc
            except ClientError as exc:
                status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0
                if status >= 500 or _code(exc) in _RETRYABLE_CODES:
                    raise StorageUnavailable(f"S3 {name}: {_code(exc)}") from exc
                raise

        return call


class S3Storage:
    name = "s3"
    wants_md5 = True  # compute Content-MD5 while spooling

    def __init__(self, config: ServerConfig) -> None:
        self.bucket = config.s3_bucket
        self.prefix = config.s3_prefix or ""
        self.spool_dir = Path(config.data_dir) / "spool"
        self.public_base_url = config.public_base_url
        self.shared_data_dir = config.shared_data_dir
        self._client = _RetryableTranslatingClient(boto3.client(
            "s3",
            endpoint_url=config.s3_endpoint_url,
            region_name=config.s3_region,
            config=BotoConfig(
                max_pool_connections=64,
                retries={"max_attempts": max(1, config.s3_max_attempts), "mode": "standard"},
                request_checksum_calculation="when_required",
                response_checksum_validation="when_required",
                connect_timeout=10,
                read_timeout=120,
            ),
        ))

    def _key(self, key: str) -> str:
        return self.prefix + key

    def start(self) -> None:
        make_private_dir(self.spool_dir)
        clear_spool(self.spool_dir, self.shared_data_dir)  # bodies of requests cut short by a crash
        try:
            self._client.head_bucket(Bucket=self.bucket)
        except ClientError as exc:
            if _code(exc) in ("404", "NoSuchBucket", "NotFound"):
                log.info("creating bucket %s", self.bucket)
                try:
                    self._client.create_bucket(Bucket=self.bucket)
                except ClientError as race:  # another instance starting at the same time created it first
                    if _code(race) != "BucketAlreadyOwnedByYou":
                        raise
            else:
                raise

    def start_upload(self, session_id: str, key: str, content_type: str) -> str | None:
        resp = self._client.create_multipart_upload(Bucket=self.bucket, Key=self._key(key), ContentType=content_type)
        return resp["UploadId"]

    def store_part(self, session_id: str, key: str, upload_id: str | None, index: int, spooled: SpooledFile) -> str | None:
        try:
            with open(spooled.path, "rb") as body:
                resp = self._client.upload_part(
                    Bucket=self.bucket, Key=self._key(key), UploadId=upload_id, PartNumber=index + 1,
                    Body=body, ContentLength=spooled.size, ContentMD5=base64.b64encode(spooled.md5).decode("ascii"),
                )
        except ClientError as exc:
            if _code(exc) in ("NoSuchUpload", "404"):
                raise UploadLost(f"S3 has no multipart upload {upload_id} for {key}") from exc
            raise
        finally:
            spooled.discard()
        return resp["ETag"]

    def list_parts(self, session_id: str, key: str, upload_id: str | None) -> dict[int, int] | None:
        out: dict[int, int] = {}
        marker = 0
        while True:
            try:
                resp = self._client.list_parts(
                    Bucket=self.bucket, Key=self._key(key), UploadId=upload_id, PartNumberMarker=marker, MaxParts=1000
                )
            except ClientError as exc:
                if _code(exc) in ("NoSuchUpload", "404"):
                    return None
                raise
            for p in resp.get("Parts", []):
                out[int(p["PartNumber"]) - 1] = int(p["Size"])
            if not resp.get("IsTruncated"):
                return out
            marker = int(resp["NextPartNumberMarker"])

    def complete(self, session_id: str, key: str, upload_id: str | None, parts: list[StoredPart],
                 expected_sha256: str | None, content_type: str) -> AssembledObject:
        try:
            self._client.complete_multipart_upload(
                Bucket=self.bucket, Key=self._key(key), UploadId=upload_id,
                MultipartUpload={"Parts": [{"PartNumber": p.index + 1, "ETag": p.etag} for p in parts]},
            )
        except ClientError as exc:
            # a finalize cut short after its Complete (database connection lost, instance killed) is retried: AWS
            # answers a repeated Complete again, MinIO says NoSuchUpload -- the object it made of these parts is there
            if _code(exc) not in ("NoSuchUpload", "404") or not self._assembled_from(key, parts):
                raise
            log.info("the multipart upload of %s was completed by an earlier finalize", key)
        size = sum(p.size for p in parts)
        if expected_sha256 is None:
            return AssembledObject(size=size, sha256=None)
        digest = hashlib.sha256()
        for block in self.iter_range(key, 0, size):
            digest.update(block)
        actual = digest.hexdigest()
        if actual != expected_sha256:
            # The multipart upload is consumed: drop the bad object and open a fresh upload for the same session.
            self._client.delete_object(Bucket=self.bucket, Key=self._key(key))
            new_id = self.start_upload(session_id, key, content_type)
            raise WholeFileMismatch(actual, parts_discarded=True, new_upload_id=new_id)
        return AssembledObject(size=size, sha256=actual)

    def _assembled_from(self, key: str, parts: list[StoredPart]) -> bool:
        """Whether the object at ``key`` is the one CompleteMultipartUpload makes of ``parts``: their total size and
        the multipart ETag (MD5 of the parts' MD5s, "-" and their count)."""
        try:
            head = self._client.head_object(Bucket=self.bucket, Key=self._key(key))
            md5s = b"".join(bytes.fromhex((p.etag or "").strip('"')) for p in parts)
        except (ClientError, ValueError):
            return False
        etag = f"{hashlib.md5(md5s).hexdigest()}-{len(parts)}"
        return head["ContentLength"] == sum(p.size for p in parts) and head["ETag"].strip('"') == etag

    def discard_parts(self, session_id: str) -> None:
        return None  # nothing local: parts live in S3 until Complete/Abort

    def local_session_ids(self) -> list[str]:
        return []  # nothing local (a multipart upload without a session row is aborted by its expiry)

    def abort(self, session_id: str, key: str, upload_id: str | None) -> None:
        if not upload_id:
            return
        try:
            self._client.abort_multipart_upload(Bucket=self.bucket, Key=self._key(key), UploadId=upload_id)
        except ClientError as exc:
            if _code(exc) not in ("NoSuchUpload", "404"):
                raise

    def put_object(self, key: str, spooled: SpooledFile, content_type: str) -> None:
        try:
            with open(spooled.path, "rb") as body:
                self._client.put_object(
                    Bucket=self.bucket, Key=self._key(key), Body=body, ContentLength=spooled.size,
                    ContentType=content_type, ContentMD5=base64.b64encode(spooled.md5).decode("ascii"),
                )
        finally:
            spooled.discard()

    def stage_object(self, key: str, spooled: SpooledFile, content_type: str) -> object:
        """Uploaded beside the object (``<key>.staged-<random>``); the commit copies it over inside S3."""
        staged = f"{key}.staged-{uuid.uuid4().hex}"
        self.put_object(staged, spooled, content_type)
        return key, staged, content_type

    def commit_staged(self, staged: object) -> None:
        key, source, content_type = staged
        self._client.copy_object(Bucket=self.bucket, Key=self._key(key), ContentType=content_type,
                                 CopySource={"Bucket": self.bucket, "Key": self._key(source)},
                                 MetadataDirective="REPLACE")
        self.discard_staged(staged)

    def discard_staged(self, staged: object) -> None:
        self.delete_object(staged[1])

    def delete_object(self, key: str) -> None:
        self._client.delete_object(Bucket=self.bucket, Key=self._key(key))  # S3: deleting a missing key is fine

    def iter_range(self, key: str, start: int, end: int) -> Iterator[bytes]:
        if end <= start:
            return
        resp = self._client.get_object(Bucket=self.bucket, Key=self._key(key), Range=f"bytes={start}-{end - 1}")
        body = resp["Body"]
        try:
            while True:
                block = body.read(READ_BLOCK)
                if not block:
                    break
                yield block
        finally:
            body.close()

    def public_url(self, key: str) -> str | None:
        return f"{self.public_base_url}/{self._key(key)}" if self.public_base_url else None
