"""Two server instances behind a real round-robin load balancer (nginx from apt), on one PostgreSQL database and one
S3 bucket (moto), no sticky sessions (issue 17): the upload engine talks to the balanced URL only; the parts of one
recording land on both instances and the stored file is sha256-identical to the local one."""

from __future__ import annotations

import collections
import hashlib
import random

import pytest
import requests

from tests.integration.upload.helpers import MIB, sha256_file
from tests.nginx import free_port, running_nginx

from .test_reverse_proxy import make_engine


@pytest.fixture
def balanced(make_server, tmp_path):
    """(balanced base URL, [instance, instance], token, {instance port: parts it stored})."""
    a = make_server("s3", database="postgres")
    b = make_server("s3", database="postgres", s3_bucket=a.thread.config.s3_bucket)
    parts_at: collections.Counter = collections.Counter()
    for s in (a, b):  # count the parts each instance stores
        real = s.service.store_chunk
        s.service.store_chunk = lambda *args, _real=real, _port=s.thread.port: (
            parts_at.update([_port]), _real(*args))[1]
    port = free_port()
    block = f"""
    upstream snaplark {{ server 127.0.0.1:{a.thread.port}; server 127.0.0.1:{b.thread.port}; }}
    server {{
        listen 127.0.0.1:{port};
        client_max_body_size 80m;
        proxy_request_buffering off;
        location / {{
            proxy_pass http://snaplark;
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-Proto $scheme;
        }}
    }}"""
    base = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            return requests.get(f"{base}/health", timeout=2).status_code == 200
        except requests.ConnectionError:
            return False

    with running_nginx(tmp_path / "nginx", block, up):
        yield base, [a, b], b.token, parts_at


def test_recording_parts_land_on_both_instances_and_the_file_matches(balanced, tmp_path):
    from tray.upload.journal import UploadJournal

    base, (a, b), token, parts_at = balanced
    path = tmp_path / "rec.webm"
    path.write_bytes(b"\x1a\x45\xdf\xa3" + random.Random(3).randbytes(17 * MIB))
    journal = UploadJournal(tmp_path / "client" / "uploads.sqlite3").open()
    engine = make_engine(f"{base}/api/v1", token, True, journal)
    try:
        url = engine.upload_file(path, {"fps": 25}).wait(120)
    finally:
        assert engine.stop(10)
        journal.close()
    assert url.startswith(f"{base}/v/"), url
    assert set(parts_at) == {a.thread.port, b.thread.port} and sum(parts_at.values()) == 4, parts_at
    for via in (base, a.url, b.url):  # through the balancer and from either instance
        r = requests.get(url.replace(base, via), headers={"Authorization": f"Bearer {token}"}, timeout=60)
        assert r.status_code == 200 and hashlib.sha256(r.content).hexdigest() == sha256_file(path)
