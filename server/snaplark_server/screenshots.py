"""Screenshot uploads (`POST /screenshots/upload`): the image checks and the stored object; a mixin of
`UploadService` (it uses the service's config, database, storage, limits, audit and clock).
"""

from __future__ import annotations

import secrets
from typing import Callable

from . import retention
from .errors import ApiError, invalid
from .multipart_stream import SpooledFile
from .upload_rules import GIF_MAGICS, JPEG_MAGIC, PNG_MAGIC
from .users import User


class ScreenshotUploads:
    def store_screenshot(self, user: User, fields: dict[str, str], spooled: SpooledFile | None,
                         url_for: Callable[[str, str], str]) -> dict[str, str]:
        try:
            extra = sorted(k for k in fields if k != retention.FIELD)
            if extra:
                raise invalid(f"unknown field(s): {', '.join(repr(k)[:40] for k in extra[:5])}")
            lifetime = retention.expires_in(fields.get(retention.FIELD), self.config, form=True)
            if spooled is None:
                raise invalid("missing file field 'file'")
            if spooled.size == 0:
                raise invalid("file: empty upload")
            if spooled.head.startswith(PNG_MAGIC):
                ext, ctype, fmt = "png", "image/png", "PNG"
            elif spooled.head.startswith(JPEG_MAGIC):
                ext, ctype, fmt = "jpg", "image/jpeg", "JPEG"
            elif spooled.head.startswith(GIF_MAGICS):
                ext, ctype, fmt = "gif", "image/gif", "GIF"
            else:
                raise ApiError(415, "unsupported_media_type", "file: expected a PNG, JPEG or GIF image")
            width, height = _verify_image(spooled, fmt, self.config.max_image_pixels)
            image_id = secrets.token_urlsafe(12)
            key = f"screenshots/{image_id}.{ext}"
            size, digest = spooled.size, spooled.sha256
            self.limits.check_bytes(user.id, size)
            self.storage.put_object(key, spooled, ctype)
            now = self.clock()
            expiry = retention.expires_at(now, lifetime)
            with self.db.write() as conn:
                self.limits.record_ingest(conn, user.id, size)
                conn.execute(
                    "INSERT INTO objects (id, user_id, kind, object_key, content_type, size, sha256, created_at,"
                    " width, height, expires_at) VALUES (?, ?, 'screenshot', ?, ?, ?, ?, ?, ?, ?, ?)",
                    (image_id, user.id, key, ctype, size, digest, now, width, height, expiry),
                )
            url = self.storage.public_url(key) or url_for("s", f"{image_id}.{ext}")
            self.audit.record("screenshot.upload", user=user.name, id=image_id, key=key, size=size, sha256=digest,
                              url=url)
            # extensions: pageUrl (the share page), expiresAt (retention.py)
            return {"url": url, "pageUrl": url_for("s", image_id), **retention.answer_fields(expiry)}
        finally:
            if spooled is not None:
                spooled.discard()


def _verify_image(spooled: SpooledFile, fmt: str, max_pixels: int) -> tuple[int, int]:
    """A real image of the claimed format, no bigger than ``max_pixels`` (checked from the header, before Pillow
    decodes anything: a 420 KB PNG can declare 12000x12000)."""
    from PIL import Image

    try:
        with Image.open(spooled.path) as im:
            if im.format != fmt:
                raise ValueError(f"format {im.format}")
            width, height = im.size
            if width * height > max_pixels:
                raise ApiError(422, "image_too_large",
                               f"file: {width}x{height} = {width * height / 1e6:.0f} megapixels; this server takes "
                               f"at most {max_pixels / 1e6:.0f} megapixels (max_image_pixels)",
                               width=width, height=height, maxPixels=max_pixels)
            im.verify()
            return width, height
    except ApiError:
        raise
    except Exception as exc:  # Pillow raises many types for broken / hostile images (incl. decompression bombs)
        raise ApiError(422, "invalid_image", f"file: not a valid {fmt} image ({type(exc).__name__})") from None
