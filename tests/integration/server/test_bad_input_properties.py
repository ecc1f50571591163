"""Property-based bad input (hypothesis, > 1,000 cases per run): every bad request gets a 4xx JSON error, the
server never answers 5xx, and nothing is stored."""

from __future__ import annotations

import hashlib
import json
import uuid

import pytest
import requests
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from snaplark_server.config import ServerConfig
from snaplark_server.runner import ServerThread
from snaplark_server.users import create_user

from .conftest import EBML_MAGIC, SEED_INIT, webm_bytes

SETTINGS = dict(deadline=None, database=None, derandomize=False,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                       HealthCheck.filter_too_much])
MAX_PART = 256 * 1024


class Env:
    def __init__(self, tmp, backend, endpoint=None):
        cfg = dict(data_dir=tmp, port=0, max_part_size=MAX_PART, max_screenshot_size=128 * 1024, min_part_size=4096,
                   storage=backend)
        if backend == "s3":
            cfg.update(s3_bucket=f"prop-{uuid.uuid4().hex[:10]}", s3_endpoint_url=endpoint, s3_region="us-east-1")
        self.thread = ServerThread(ServerConfig(**cfg)).start()
        self.db = self.thread.app.state.db
        self.data_dir = tmp
        self.token = create_user(self.db, "alice")
        self.bob = create_user(self.db, "bob")
        self.api = self.thread.api_url
        self.http = requests.Session()
        self.sid = self.init(self.token)
        self.bob_sid = self.init(self.bob)
        # a session with parts 0 (big enough) and 2: finalize of 3 has a gap at 1
        self.gap_sid = self.init(self.token)
        for i, size in ((0, 5000), (2, 100)):
            r = self.http.post(f"{self.api}/videos/chunk", headers=self.h(), timeout=10,
                               data={"sessionId": self.gap_sid, "chunkIndex": str(i)},
                               files={"chunk": ("c", webm_bytes(size, b"g"))})
            assert r.status_code == 200

    def h(self, token=None):
        return {"Authorization": f"Bearer {token or self.token}"}

    def init(self, token):
        r = self.http.post(f"{self.api}/videos/init", json=SEED_INIT, headers=self.h(token), timeout=10)
        assert r.status_code == 200
        return r.json()["sessionId"]

    def assert_nothing_stored(self):
        assert self.db.query("SELECT * FROM parts WHERE session_id IN (?, ?)", (self.sid, self.bob_sid)) == []
        assert self.db.query_one("SELECT COUNT(*) FROM sessions")[0] == 3
        assert self.db.query_one("SELECT COUNT(*) FROM objects")[0] == 0
        assert {r["state"] for r in self.db.query("SELECT state FROM sessions")} == {"open"}
        assert list((self.data_dir / "spool").iterdir()) == []

    def close(self):
        self.thread.stop()


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    e = Env(tmp_path_factory.mktemp("prop-local"), "local")
    yield e
    e.close()


@pytest.fixture(scope="module")
def s3_env(tmp_path_factory, moto_endpoint):
    e = Env(tmp_path_factory.mktemp("prop-s3"), "s3", moto_endpoint)
    yield e
    e.close()


def assert_json_4xx(r: requests.Response) -> dict:
    assert 400 <= r.status_code < 500, (r.status_code, r.text[:300])
    body = r.json()
    assert isinstance(body, dict) and isinstance(body.get("error"), str) and isinstance(body.get("message"), str)
    return body


def post_json(e: Env, path: str, body) -> requests.Response:
    """JSON as Python writes it, NaN/Infinity included (the server must refuse those as bad input, not crash)."""
    return e.http.post(e.api + path, data=json.dumps(body), timeout=10,
                       headers={**e.h(), "Content-Type": "application/json"})


text = st.text(min_size=0, max_size=40)
bad_index = st.one_of(
    st.integers(max_value=-1).map(str),
    st.integers(min_value=10_000, max_value=10**30).map(str),
    st.floats(allow_nan=True).map(repr),
    text.filter(lambda s: not (s.isascii() and s.isdigit() and 0 < len(s) <= 9 and int(s) < 10_000)),
    st.just(""), st.just(" 1"), st.just("0x1"), st.just("１"),
)
bad_sha = st.one_of(text.filter(lambda s: not (len(s) == 64 and all(c in "0123456789abcdef" for c in s))),
                    st.binary(min_size=32, max_size=32).map(lambda b: hashlib.sha256(b).hexdigest().upper()))
MUTATIONS = ["session_random", "session_foreign", "session_missing", "index_bad", "index_missing", "extra_field",
             "sha_bad", "sha_wrong", "chunk_missing", "chunk_empty", "oversize", "dup_field", "wrong_ctype"]


@st.composite
def bad_chunk_request(draw):
    muts = draw(st.lists(st.sampled_from(MUTATIONS), min_size=1, max_size=3, unique=True))
    data = draw(st.binary(min_size=1, max_size=2048))
    return muts, data, draw(bad_index), draw(bad_sha), draw(text), draw(text.filter(lambda s: s not in (
        "sessionId", "chunkIndex", "sha256", "chunk"))), draw(st.integers(1, 4096))


def send_bad_chunk(e: Env, case) -> requests.Response:
    muts, data, index, shaval, rnd, extra_name, over = case
    fields: list[tuple[str, tuple]] = []
    sid = e.sid
    if "session_random" in muts:
        sid = rnd if rnd not in (e.sid,) else rnd + "x"
    elif "session_foreign" in muts:
        sid = e.bob_sid
    if "session_missing" not in muts:
        fields.append(("sessionId", (None, sid)))
    if "index_missing" not in muts:
        fields.append(("chunkIndex", (None, index if "index_bad" in muts else "0")))
    if "sha_bad" in muts:
        fields.append(("sha256", (None, shaval)))
    elif "sha_wrong" in muts:
        fields.append(("sha256", (None, hashlib.sha256(data + b"!").hexdigest())))
    if "extra_field" in muts:
        fields.append((extra_name or "x", (None, "1")))
    if "dup_field" in muts:
        fields += [("chunkIndex", (None, "1")), ("chunkIndex", (None, "2"))]
    if "chunk_empty" in muts:
        data = b""
    if "oversize" in muts:
        data = b"o" * (MAX_PART + over)
    if "chunk_missing" not in muts:
        fields.append(("chunk", ("../../chunk_0.webm", data, "video/webm")))
    if "wrong_ctype" in muts:
        return e.http.post(f"{e.api}/videos/chunk", headers={**e.h(), "Content-Type": "application/json"},
                           data=json.dumps({k: v[1] if isinstance(v[1], str) else "" for k, v in fields}), timeout=30)
    return e.http.post(f"{e.api}/videos/chunk", headers=e.h(), files=fields, timeout=30)


@settings(max_examples=450, **SETTINGS)
@given(case=bad_chunk_request())
def test_bad_chunks_local(env, case):
    r = send_bad_chunk(env, case)
    body = assert_json_4xx(r)
    if case[0] == ["session_foreign"]:
        # another user's session is indistinguishable from a session that does not exist
        assert r.status_code == 404 and body["error"] == "session_not_found"
        ghost = send_bad_chunk(env, (["session_random"],) + case[1:4] + ("no-such-session",) + case[5:])
        assert ghost.status_code == 404 and ghost.json() == body
    env.assert_nothing_stored()


@settings(max_examples=80, **SETTINGS)
@given(case=bad_chunk_request())
def test_bad_chunks_s3(s3_env, case):
    assert_json_4xx(send_bad_chunk(s3_env, case))
    s3_env.assert_nothing_stored()


json_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), text)
json_values = st.recursive(json_scalars, lambda c: st.one_of(st.lists(c, max_size=4),
                                                               st.dictionaries(text, c, max_size=4)), max_leaves=8)
WRONG = {
    "filename": st.one_of(st.just(""), st.integers(), st.none(), st.lists(text, max_size=2), st.text(min_size=256)),
    "timestamp": st.one_of(text, st.none(), st.booleans(), st.integers(max_value=-1), st.lists(st.integers())),
    "fps": st.one_of(text, st.none(), st.booleans(), st.integers(max_value=0), st.floats(min_value=1001)),
    "codec": st.one_of(st.just(""), st.integers(), st.none(), st.dictionaries(text, text)),
    "bitrate": st.one_of(text, st.none(), st.floats(), st.integers(max_value=-1)),
    "resolution": st.one_of(text.filter(lambda s: "x" not in s), st.integers(), st.just("1920X1080")),
}


@st.composite
def bad_init_body(draw):
    kind = draw(st.sampled_from(["random", "missing", "wrong", "extra"]))
    if kind == "random":
        v = draw(json_values)
        assume(not (isinstance(v, dict) and set(v) == set(SEED_INIT)))
        return v
    body = dict(SEED_INIT)
    if kind == "missing":
        for k in draw(st.lists(st.sampled_from(sorted(SEED_INIT)), min_size=1, unique=True)):
            del body[k]
    elif kind == "wrong":
        k = draw(st.sampled_from(sorted(WRONG)))
        body[k] = draw(WRONG[k])
    else:
        name = draw(text.filter(lambda s: s not in SEED_INIT))
        body[name] = draw(json_values)
    return body


@settings(max_examples=200, **SETTINGS)
@given(body=bad_init_body())
def test_bad_init(env, body):
    r = post_json(env, "/videos/init", body)
    assert assert_json_4xx(r)["error"] == "invalid_request"
    env.assert_nothing_stored()


@st.composite
def bad_finalize_body(draw, e_sids):
    gap_sid, foreign_sid = e_sids
    kind = draw(st.sampled_from(["random", "missing", "types", "gap", "foreign", "unknown_sid", "extra", "range"]))
    body = {"sessionId": gap_sid, "totalChunks": 3, "uploadedChunks": [0, 1, 2], "duration": 1.0, "metadata": {}}
    if kind == "random":
        v = draw(json_values)
        return v
    if kind == "missing":
        for k in draw(st.lists(st.sampled_from(["sessionId", "totalChunks", "uploadedChunks"]), min_size=1, unique=True)):
            del body[k]
    elif kind == "types":
        k = draw(st.sampled_from(["sessionId", "totalChunks", "uploadedChunks", "duration", "metadata", "sha256"]))
        body[k] = draw(st.one_of(text.filter(lambda s: k in ("totalChunks", "uploadedChunks", "duration",
                                                             "metadata", "sha256")),
                                 st.lists(text, min_size=1, max_size=3), st.booleans(), st.floats(allow_nan=False),
                                 st.integers(max_value=0)).filter(
            lambda v: not (k == "sessionId" and isinstance(v, str)) and not (k == "duration" and
                                                                            isinstance(v, (int, float))
                                                                            and not isinstance(v, bool) and v >= 0)))
    elif kind == "gap":
        body["uploadedChunks"] = draw(st.lists(st.integers(0, 2), unique=True).map(sorted))
    elif kind == "foreign":
        body["sessionId"] = foreign_sid
    elif kind == "unknown_sid":
        body["sessionId"] = draw(text)
    elif kind == "extra":
        body[draw(text.filter(lambda s: s not in body and s != "sha256"))] = draw(json_values)
    else:
        body["totalChunks"] = draw(st.integers(min_value=10_001, max_value=10**20))
    return body


@settings(max_examples=300, **SETTINGS)
@given(data=st.data())
def test_bad_finalize(env, data):
    body = data.draw(bad_finalize_body((env.gap_sid, env.bob_sid)))
    r = post_json(env, "/videos/finalize", body)
    err = assert_json_4xx(r)
    if r.status_code == 409:
        assert err["error"] == "incomplete" and 1 in err["missing"]
    env.assert_nothing_stored()


@settings(max_examples=150, **SETTINGS)
@given(data=st.binary(max_size=4096), filename=st.one_of(text, st.just("../../etc/passwd"),
                                                          text.map(lambda s: "../" * 3 + s + ".png")),
       prefix=st.sampled_from([b"", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff"]),
       ctype=st.sampled_from(["image/png", "application/octet-stream", "text/plain"]))
def test_bad_screenshots(env, data, filename, prefix, ctype):
    payload = prefix + data
    assume(not payload.startswith(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"))  # random bytes are never a valid PNG
    r = env.http.post(f"{env.api}/screenshots/upload", files={"file": (filename, payload, ctype)}, headers=env.h(),
                      timeout=10)
    body = assert_json_4xx(r)
    assert body["error"] in ("unsupported_media_type", "invalid_image", "invalid_request")
    env.assert_nothing_stored()
    assert not any(".." in p.name or "passwd" in p.name for p in env.data_dir.rglob("*"))


@settings(max_examples=150, **SETTINGS)
@given(path=st.sampled_from(["/videos/chunk", "/screenshots/upload", "/videos/init", "/videos/finalize",
                             "/videos/x/status", "/me", "/nope"]),
       method=st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH"]),
       ctype=st.one_of(st.none(), st.sampled_from(["multipart/form-data", "multipart/form-data; boundary=",
                                                   "multipart/form-data; boundary=zz", "application/json",
                                                   "text/plain", "multipart/mixed; boundary=a"]),
                   st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7e), max_size=60)),
       body=st.one_of(st.binary(max_size=2048),
                      st.binary(max_size=512).map(lambda b: b"--zz\r\nContent-Disposition: form-data; name=\"chunk\""
                                                            b"\r\n\r\n" + b)),
       auth=st.booleans())
def test_garbage_http_never_500(env, path, method, ctype, body, auth):
    headers = env.h() if auth else {}
    if ctype is not None:  # (header values with control characters are refused by the HTTP parser itself)
        headers["Content-Type"] = ctype.strip()
    r = env.http.request(method, env.api + path, data=body, headers=headers, timeout=10)
    assert r.status_code != 200 or (method, path) == ("GET", "/me")
    if r.status_code != 200:
        assert_json_4xx(r)
    env.assert_nothing_stored()


@pytest.fixture(scope="module")
def served_video(env):
    data = EBML_MAGIC + bytes(range(256)) * 40 + b"tail"
    sid = env.init(env.token)
    r = env.http.post(f"{env.api}/videos/chunk", headers=env.h(), timeout=10,
                      data={"sessionId": sid, "chunkIndex": "0"}, files={"chunk": ("c", data)})
    assert r.status_code == 200
    url = env.http.post(f"{env.api}/videos/finalize", headers=env.h(), timeout=10,
                        json={"sessionId": sid, "totalChunks": 1, "uploadedChunks": [0]}).json()["url"]
    # keep the shared env's invariants (3 open sessions, no objects) for the other tests in this module
    env.db.execute("DELETE FROM parts WHERE session_id = ?", (sid,))
    env.db.execute("DELETE FROM sessions WHERE id = ?", (sid,))
    yield ServedFile(url, data)


class ServedFile:
    def __init__(self, url: str, data: bytes) -> None:
        self.url, self.data = url, data

    def __iter__(self):
        return iter((self.url, self.data))

    def __repr__(self) -> str:
        return f"ServedFile({self.url!r}, <{len(self.data)} bytes>)"


@settings(max_examples=150, **SETTINGS)
@given(first=st.one_of(st.none(), st.integers(0, 12000)), last=st.one_of(st.none(), st.integers(0, 12000)),
       junk=st.one_of(st.none(), st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7e), max_size=30)))
def test_range_requests(env, served_video, first, last, junk):
    url, data = served_video
    size = len(data)
    spec = (junk.strip() or "x") if junk is not None else f"bytes={'' if first is None else first}-{'' if last is None else last}"
    r = env.http.get(url, headers={"Range": spec}, timeout=10)
    assert r.status_code in (200, 206, 416), (spec, r.status_code)
    if r.status_code == 416:
        assert r.json()["error"] == "range_not_satisfiable" and r.headers["content-range"] == f"bytes */{size}"
        return
    if r.status_code == 200:
        assert r.content == data
        return
    start, end_incl = (int(x) for x in r.headers["content-range"].split(" ")[1].split("/")[0].split("-"))
    assert r.content == data[start:end_incl + 1] and len(r.content) == int(r.headers["content-length"])
    if junk is None and first is not None:
        assert start == first and end_incl == min(size - 1, last if last is not None else size - 1)
    elif junk is None and last is not None:
        assert start == max(0, size - last) and end_incl == size - 1
