"""How one upload's parts reach the server: straight to its storage when the server offers it, else through it.

A server that says ``directParts: true`` at init hands out a presigned storage URL per part
(``POST /videos/{id}/parts/{index}/url``); the part is PUT there with the headers it names (Content-MD5: the
storage checks the bytes) and then reported (``.../complete``), where the server checks the storage's copy (size,
MD5) and counts it. The part is acknowledged -- journaled as acked by the caller -- only after that answer, exactly
as after ``/videos/chunk``. Whatever goes wrong on the direct path for a part (the storage refuses or does not
answer, the URL expired twice, the server refuses the stored copy at count time) sends that part to
``/videos/chunk`` instead; a storage the client cannot reach at all, or a server without the extension, turns the
direct path off for the rest of the upload. A session the server lost (SessionGone) goes to the caller as always.

A resumed upload (after a restart) learns the same from the session's ``/status`` (``directParts``).

Threading: one PartSender per upload, used only by that upload's worker thread.
"""

from __future__ import annotations

import hashlib
import logging

from tray.api.client import ApiClient
from tray.api.errors import ApiError, ExtensionMissing, SessionGone, StorageRefused
from tray.upload.policy import CallPolicy

log = logging.getLogger(__name__)

URL_ATTEMPTS = 2  # a part whose URL the storage refused (403: expired) gets one fresh URL, then goes via the server


class PartSender:
    def __init__(self, policy: CallPolicy, upload_id: int) -> None:
        self.policy = policy
        self.upload_id = upload_id
        self.direct = False
        self.direct_parts_sent = 0  # for the log and tests: parts that went straight to storage
        self.fallbacks = 0  # parts the direct path failed for, sent to /videos/chunk instead

    def offer(self, direct_parts: bool) -> None:
        """What the init answer (or, for a resumed session, ``/status``) said."""
        self.direct = bool(direct_parts)
        if self.direct:
            log.info("upload %s: the server takes parts straight to its storage", self.upload_id)

    def send(self, client: ApiClient, session_id: str, index: int, data: bytes, sha256: str) -> None:
        """Send one part; returns once the server has counted it (else raises like ``/videos/chunk`` does)."""
        if self.direct:
            try:
                if self._direct(client, session_id, index, data, sha256):
                    self.direct_parts_sent += 1
                    return
            except SessionGone:
                raise
            except ExtensionMissing as exc:
                self.direct = False
                log.info("upload %s: the server stopped offering direct parts (%s); using /videos/chunk",
                         self.upload_id, exc)
            except ApiError as exc:  # refused at count time (size/MD5), not in storage, bad answer ...
                log.warning("upload %s: part %d did not go straight to storage (%s); sending it to /videos/chunk",
                            self.upload_id, index, exc)
            self.fallbacks += 1
        self.policy.call(client, lambda: client.video_chunk(session_id, index, data, sha256))

    def _direct(self, client: ApiClient, session_id: str, index: int, data: bytes, sha256: str) -> bool:
        """True once the server counted the part; False when it should go through the server instead."""
        md5 = hashlib.md5(data).hexdigest()
        size = len(data)
        for attempt in range(1, URL_ATTEMPTS + 1):
            target = self.policy.call(client, lambda: client.video_part_url(session_id, index, size, md5))
            try:
                client.put_to_storage(target, data)
            except StorageRefused as exc:
                if exc.status is None:  # unreachable from here (e.g. an internal S3 address): stop trying
                    self.direct = False
                    log.warning("upload %s: %s; the remaining parts go through the server", self.upload_id, exc)
                    return False
                if exc.status == 403 and attempt < URL_ATTEMPTS:  # S3's answer to an expired URL
                    log.info("upload %s: part %d: %s; asking for a new URL", self.upload_id, index, exc)
                    continue
                log.warning("upload %s: part %d: %s", self.upload_id, index, exc)
                return False
            self.policy.call(client, lambda: client.video_part_complete(session_id, index, size, md5, sha256,
                                                                        bytes(data[:16])))
            return True
        return False
