"""Storage backends: `local` (default) and `s3`."""

from __future__ import annotations

from ..config import ServerConfig
from .base import AssembledObject, StorageBackend, StorageUnavailable, StoredPart, UploadLost, WholeFileMismatch


def make_storage(config: ServerConfig) -> StorageBackend:
    if config.storage == "s3":
        from .s3 import S3Storage  # boto3 is imported only when S3 is used

        return S3Storage(config)
    from .local import LocalStorage

    return LocalStorage(config)


__all__ = ["AssembledObject", "StorageBackend", "StorageUnavailable", "StoredPart", "UploadLost", "WholeFileMismatch",
           "make_storage"]
