"""Observability of the reference server (issue 16): access log (plain and JSON lines), audit log, ``/metrics``
(Prometheus text, parsed with prometheus_client's parser), ``/health?deep=1``, ``X-Request-Id``, and no token in
any log. Real servers over HTTP: in-process (`make_server`) or the ``snaplark-server`` process."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from snaplark_server.config import MiB

from .conftest import SEED_INIT, finalize, init_session, make_parts, send_chunk, start_cli_server, stop_process
from .test_disk_full import FakeDisk
from .test_screenshots import png_bytes, upload

PLAIN_LINE = re.compile(
    r'^(?P<ts>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) (?P<client>\S+) (?P<user>\S+) "(?P<method>[A-Z]+) (?P<path>[^"]*)" '
    r'(?P<status>\d{3}) in=(?P<bytes_in>\d+) out=(?P<bytes_out>\d+) (?P<ms>\d+\.\d)ms rid=(?P<rid>[A-Za-z0-9._-]+) '
    r'ua="(?P<ua>[^"]*)"$')
GENERATED_RID = re.compile(r"^[0-9a-f]{16}$")


def lines(path: Path) -> list[str]:
    return [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def wait_for_lines(path: Path, n: int, timeout: float = 10.0) -> list[str]:
    """The access log line of a request is written right after its answer: the client may see the answer first."""
    deadline = time.monotonic() + timeout
    while True:
        got = lines(path) if path.exists() else []
        if len(got) >= n or time.monotonic() > deadline:
            return got
        time.sleep(0.02)


def sent_length(r: requests.Response) -> int:
    body = r.request.body
    return 0 if body is None else len(body if isinstance(body, bytes) else body.encode())


def private(path: Path) -> bool:
    return stat.S_IMODE(path.stat().st_mode) == 0o600


# --- access log -------------------------------------------------------------------------------------------------


def test_access_log_line_has_every_field_after_an_upload(make_server):
    s = make_server("local", access_log="access.log")
    log_path = s.data_dir / "access.log"
    data = png_bytes()
    r = upload(s, data)
    assert r.status_code == 200, r.text
    rid = r.headers["X-Request-Id"]
    assert GENERATED_RID.match(rid)
    bad = requests.get(f"{s.api_url}/me", headers={"Authorization": "Bearer wrong-token-1234567890"}, timeout=10)
    assert bad.status_code == 401
    got = wait_for_lines(log_path, 2)
    assert len(got) == 2, got
    m = PLAIN_LINE.match(got[0])
    assert m, got[0]
    assert (m["client"], m["user"], m["method"], m["path"], m["status"]) == (
        "127.0.0.1", "alice", "POST", "/api/v1/screenshots/upload", "200")
    assert int(m["bytes_in"]) == sent_length(r) > len(data)  # the multipart body as it came over the wire
    assert int(m["bytes_out"]) == len(r.content)
    assert 0 < float(m["ms"]) < 30_000
    assert m["rid"] == rid
    assert m["ua"].startswith("python-requests/")
    m2 = PLAIN_LINE.match(got[1])
    assert m2 and (m2["user"], m2["path"], m2["status"], m2["bytes_out"]) == (
        "-", "/api/v1/me", "401", str(len(bad.content)))
    assert m2["rid"] == bad.headers["X-Request-Id"] != rid
    assert private(log_path)


def test_access_log_json_lines_parse(make_server):
    s = make_server("local", access_log="logs/access.jsonl", access_log_json=True)
    log_path = s.data_dir / "logs" / "access.jsonl"
    sid = init_session(s)
    part = make_parts([70_000])[0]
    r = send_chunk(s, sid, 0, part)
    assert r.status_code == 200
    st = requests.get(f"{s.api_url}/videos/{sid}/status?x=1&token=abc", headers=s.headers(), timeout=10)
    assert st.status_code == 200
    got = [json.loads(line) for line in wait_for_lines(log_path, 3)]
    assert [e["path"] for e in got] == ["/api/v1/videos/init", "/api/v1/videos/chunk",
                                        f"/api/v1/videos/{sid}/status?x=1&token=REDACTED"]
    chunk = got[1]
    assert set(chunk) >= {"ts", "client", "user", "method", "path", "route", "status", "bytesIn", "bytesOut",
                          "durationMs", "requestId", "userAgent"}
    assert (chunk["method"], chunk["status"], chunk["user"], chunk["route"]) == (
        "POST", 200, "alice", "/api/v1/videos/chunk")
    assert chunk["bytesIn"] == sent_length(r) and chunk["bytesOut"] == len(r.content)
    assert chunk["requestId"] == r.headers["X-Request-Id"] and chunk["durationMs"] > 0
    assert got[2]["route"] == "/api/v1/videos/{session_id}/status"


def test_access_log_off_writes_nothing(make_server, capfd):
    s = make_server("local", access_log="off")
    assert requests.get(s.url + "/health", timeout=10).status_code == 200
    time.sleep(0.1)
    assert "/health" not in capfd.readouterr().err
    assert not (s.data_dir / "off").exists()


# --- audit log --------------------------------------------------------------------------------------------------


def audit_entries(data_dir: Path) -> list[dict]:
    return [json.loads(line) for line in lines(data_dir / "audit.log")]


def run_cli(data_dir, *args, timeout=60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "snaplark_server", "--data-dir", str(data_dir), *args],
                          capture_output=True, text=True, timeout=timeout)


def test_audit_log_has_uploads_finalizes_deletes_and_user_administration(make_server):
    s = make_server("local", access_log="off")
    shot = upload(s, png_bytes())
    assert shot.status_code == 200
    sid = init_session(s)
    parts = make_parts([70_000, 1234], seed=3)
    for i in (1, 0):
        assert send_chunk(s, sid, i, parts[i]).status_code == 200
    fin = finalize(s, sid, 2)
    assert fin.status_code == 200, fin.text
    assert finalize(s, sid, 2).status_code == 200  # an idempotent repeat is no second finalize

    added = run_cli(s.data_dir, "user", "add", "bob")
    assert added.returncode == 0, added.stderr
    bob = added.stdout.strip().splitlines()[-1]
    assert upload(s, png_bytes(color=(1, 2, 3)), ).status_code == 200
    r = requests.post(f"{s.api_url}/screenshots/upload", files={"file": ("s.png", png_bytes(), "image/png")},
                      headers={"Authorization": f"Bearer {bob}"}, timeout=30)
    assert r.status_code == 200
    assert run_cli(s.data_dir, "user", "token", "bob").returncode == 0
    assert run_cli(s.data_dir, "user", "disable", "bob").returncode == 0
    deleted = run_cli(s.data_dir, "user", "delete", "bob", "--yes")
    assert deleted.returncode == 0, deleted.stderr
    shot_id = shot.json()["url"].rsplit("/", 1)[-1].split(".")[0]
    gone = requests.delete(f"{s.api_url}/objects/{shot_id}", headers=s.headers(), timeout=10)
    assert gone.status_code == 200, gone.text

    entries = audit_entries(s.data_dir)
    events = [(e["event"], e.get("user")) for e in entries]
    assert events == [("screenshot.upload", "alice"), ("video.init", "alice"), ("video.finalize", "alice"),
                      ("user.add", "bob"), ("screenshot.upload", "alice"), ("screenshot.upload", "bob"),
                      ("user.token", "bob"), ("user.disable", "bob"), ("user.delete", "bob"),
                      ("object.delete", "alice")]
    first = entries[0]
    assert first["requestId"] == shot.headers["X-Request-Id"] and first["client"] == "127.0.0.1"
    assert shot.json()["url"] == first["url"] and first["size"] == len(png_bytes())
    fin_entry = entries[2]
    whole = parts[0] + parts[1]
    assert (fin_entry["sessionId"], fin_entry["key"], fin_entry["size"], fin_entry["parts"]) == (
        sid, fin.json()["key"], len(whole), 2)
    assert fin_entry["requestId"] == fin.headers["X-Request-Id"]
    assert entries[1]["sessionId"] == sid and entries[1]["filename"] == SEED_INIT["filename"]
    delete = entries[-2]
    assert delete["actor"] == "cli" and delete["objects"] == 1 and "requestId" not in delete
    assert (entries[-1]["id"], entries[-1]["kind"], entries[-1]["requestId"]) == (
        shot_id, "screenshot", gone.headers["X-Request-Id"])
    assert all(re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", e["ts"]) for e in entries)
    raw = (s.data_dir / "audit.log").read_text()
    assert s.token not in raw and bob not in raw
    assert private(s.data_dir / "audit.log")


# --- metrics ----------------------------------------------------------------------------------------------------


def scrape(s, token: str | None = None) -> dict[tuple, float]:
    """{(sample name, sorted labels): value} of one /metrics answer, parsed by prometheus_client."""
    r = requests.get(s.url + "/metrics", headers=s.headers(token) if token != "" else {}, timeout=10)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain")
    out = {}
    for family in text_string_to_metric_families(r.text):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def delta(before: dict, after: dict, name: str, **labels) -> float:
    key = (name, tuple(sorted((k, str(v)) for k, v in labels.items())))
    return after.get(key, 0.0) - before.get(key, 0.0)


def test_metrics_counters_move_by_what_the_requests_did(make_server, backend):
    s = make_server(backend, access_log="off")
    before = scrape(s)
    assert requests.get(s.url + "/health", timeout=10).status_code == 200
    assert requests.get(s.url + "/health", timeout=10).status_code == 200
    assert requests.get(f"{s.api_url}/me", timeout=10).status_code == 401
    assert requests.get(s.url + "/no/such/thing", timeout=10).status_code == 404
    sid = init_session(s)
    during = scrape(s)
    assert during[("snaplark_upload_sessions_open", ())] == 1
    sizes = [6 * MiB, 5 * MiB + 17, 1000]  # S3 needs >= 5 MiB for all parts but the last
    parts = make_parts(sizes, seed=9)
    chunk_answers = [send_chunk(s, sid, i, parts[i]) for i in (1, 2, 0)]
    assert all(r.status_code == 200 for r in chunk_answers)
    mismatch = send_chunk(s, sid, 2, parts[2], sha256="0" * 64)
    assert mismatch.status_code == 422
    fin = finalize(s, sid, 3)
    assert fin.status_code == 200, fin.text
    after = scrape(s)

    chunk = "/api/v1/videos/chunk"
    assert delta(before, after, "snaplark_http_requests_total", method="GET", route="/health", status=200) == 2
    assert delta(before, after, "snaplark_http_requests_total", method="GET", route="/api/v1/me", status=401) == 1
    assert delta(before, after, "snaplark_http_requests_total", method="GET", route="<unmatched>", status=404) == 1
    assert delta(before, after, "snaplark_http_requests_total", method="POST", route=chunk, status=200) == 3
    assert delta(before, after, "snaplark_http_requests_total", method="POST", route=chunk, status=422) == 1
    assert delta(before, after, "snaplark_http_requests_total", method="GET", route="/metrics", status=200) == 2
    assert delta(before, after, "snaplark_http_request_duration_seconds_count", route=chunk) == 4
    assert delta(before, after, "snaplark_http_request_bytes_total", route=chunk) == sum(
        sent_length(r) for r in chunk_answers + [mismatch])
    assert delta(before, after, "snaplark_http_response_bytes_total", route=chunk) == sum(
        len(r.content) for r in chunk_answers + [mismatch])
    assert delta(before, after, "snaplark_http_response_bytes_total", route="/api/v1/videos/finalize") == len(
        fin.content)
    assert delta(before, after, "snaplark_api_errors_total", code="unauthorized", status=401) == 1
    assert delta(before, after, "snaplark_api_errors_total", code="not_found", status=404) == 1
    assert delta(before, after, "snaplark_api_errors_total", code="checksum_mismatch", status=422) == 1
    assert delta(before, after, "snaplark_parts_stored_total") == 3
    assert delta(before, after, "snaplark_part_bytes_stored_total") == sum(sizes)
    assert after[("snaplark_upload_sessions_open", ())] == 0
    store = dict(backend=backend, operation="store_part", outcome="ok")
    assert delta(before, after, "snaplark_storage_operation_seconds_count", **store) == 3
    assert delta(before, after, "snaplark_storage_operation_seconds_sum", **store) > 0
    assert delta(before, after, "snaplark_storage_operation_seconds_count", backend=backend, operation="complete",
                 outcome="ok") == 1
    assert delta(before, after, "snaplark_storage_operation_seconds_count", backend=backend,
                 operation="start_upload", outcome="ok") == 1
    assert after[("snaplark_http_requests_in_progress", ())] == 1  # the scrape itself


def test_metrics_need_a_token_unless_public_and_servers_do_not_share_them(make_server):
    closed = make_server("local", access_log="off")
    r = requests.get(closed.url + "/metrics", timeout=10)
    assert r.status_code == 401 and r.json()["error"] == "unauthorized"
    assert requests.get(closed.url + "/metrics", headers=closed.headers("not-a-valid-token-xyz"),
                        timeout=10).status_code == 401
    public = make_server("local", access_log="off", metrics_public=True)
    for _ in range(3):
        assert requests.get(public.url + "/health", timeout=10).status_code == 200
    open_scrape = scrape(public, token="")
    closed_scrape = scrape(closed)
    key = ("snaplark_http_requests_total", (("method", "GET"), ("route", "/health"), ("status", "200")))
    assert open_scrape[key] == 3
    assert closed_scrape.get(key, 0) == 0  # the other server's requests are not counted here
    unauthorized = ("snaplark_api_errors_total", (("code", "unauthorized"), ("status", "401")))
    assert closed_scrape[unauthorized] == 2 and unauthorized not in open_scrape


# --- deep health ------------------------------------------------------------------------------------------------


def test_deep_health_checks_free_disk_space(make_server):
    disk = FakeDisk(1 << 40)
    s = make_server("local", access_log="off", min_free_bytes=50 * MiB, free_space=disk)
    r = requests.get(s.url + "/health?deep=1", timeout=10)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "ok" and body["checks"]["database"]["ok"] is True
    assert body["checks"]["disk"] == {"ok": True, "freeBytes": 1 << 40, "minFreeBytes": 50 * MiB}
    disk.free = 50 * MiB - 1
    r = requests.get(s.url + "/health?deep=1", timeout=10)
    assert r.status_code == 503, r.text
    body = r.json()
    assert body["status"] == "unavailable" and body["error"] == "unhealthy" and "disk" in body["message"]
    assert body["checks"]["disk"]["ok"] is False and body["checks"]["disk"]["freeBytes"] == 50 * MiB - 1
    assert body["checks"]["database"]["ok"] is True
    assert requests.get(s.url + "/health", timeout=10).json() == {"status": "ok"}  # the shallow one stays up
    assert requests.get(s.url + "/api/v1/health?deep=1", timeout=10).status_code == 503
    disk.free = 50 * MiB
    assert requests.get(s.url + "/health?deep=1", timeout=10).status_code == 200


def test_deep_health_fails_when_the_database_file_is_gone(make_server):
    s = make_server("local", access_log="off")
    db_file = s.db.path
    assert requests.get(s.url + "/health?deep=1", timeout=10).status_code == 200
    moved = db_file.with_name("moved-away.sqlite3")
    os.rename(db_file, moved)  # e.g. the data volume replaced under the running server
    try:
        r = requests.get(s.url + "/health?deep=1", timeout=10)
        assert r.status_code == 503, r.text
        checks = r.json()["checks"]
        assert checks["database"]["ok"] is False and "unable to open" in checks["database"]["error"]
        assert checks["disk"]["ok"] is True
        assert requests.get(s.url + "/health", timeout=10).status_code == 200
    finally:
        os.rename(moved, db_file)
    assert requests.get(s.url + "/health?deep=1", timeout=10).status_code == 200


# --- request ids ------------------------------------------------------------------------------------------------


def test_request_id_is_echoed_when_sane_and_generated_otherwise(make_server):
    s = make_server("local", access_log="access.log")
    sane = ["abc", "A.b_c-9", "x" * 64, "5f1c2e3a-aaaa-bbbb-cccc-0123456789ab"]
    for rid in sane:
        r = requests.get(s.url + "/health", headers={"X-Request-Id": rid}, timeout=10)
        assert r.headers["X-Request-Id"] == rid
    insane = ["x" * 65, "has space", "semi;colon", "quote\"d", "\u00e9t\u00e9".encode().decode("latin-1"), ""]
    generated = []
    for rid in insane:
        r = requests.get(s.url + "/health", headers={"X-Request-Id": rid}, timeout=10)
        assert r.headers["X-Request-Id"] != rid and GENERATED_RID.match(r.headers["X-Request-Id"])
        generated.append(r.headers["X-Request-Id"])
    for _ in range(3):
        generated.append(requests.get(s.url + "/health", timeout=10).headers["X-Request-Id"])
    assert len(set(generated)) == len(generated)
    # error answers carry it too, and the access log line names the same id
    r = requests.post(f"{s.api_url}/videos/init", json=SEED_INIT, headers={"X-Request-Id": "err-1"}, timeout=10)
    assert r.status_code == 401 and r.headers["X-Request-Id"] == "err-1"
    got = wait_for_lines(s.data_dir / "access.log", len(sane) + len(insane) + 4)
    rids = [PLAIN_LINE.match(line)["rid"] for line in got]
    assert rids == sane + generated + ["err-1"]


def test_request_id_in_every_log_line_of_the_request_and_no_token_anywhere(tmp_path):
    """The ``snaplark-server`` process: its log lines (here the disk reserve's refusal) carry ``rid=`` of the
    request; after authenticated requests with the token in the header and in query strings, neither its log
    (at DEBUG), nor the access log file, nor the audit log contains the token."""
    config = tmp_path / "server.toml"
    config.write_text("min_free_bytes = 1_000_000_000_000_000\n")  # every write refused: a warning is logged
    added = run_cli(tmp_path / "data", "user", "add", "erin")
    token = added.stdout.strip().splitlines()[-1]
    assert token.startswith("slk_")
    err_path = tmp_path / "server.err"
    with err_path.open("w") as err:
        proc, url = start_cli_server(tmp_path / "data", global_args=("-v", "--config", str(config)), stderr=err)
    try:
        auth = {"Authorization": f"Bearer {token}"}
        r = requests.post(f"{url}/api/v1/videos/init", json=SEED_INIT, headers={**auth, "X-Request-Id": "disk-9"},
                          timeout=10)
        assert r.status_code == 503 and r.headers["X-Request-Id"] == "disk-9"
        assert requests.get(f"{url}/api/v1/me?token={token}&access_token={token}", headers=auth,
                            timeout=10).status_code == 200
        assert requests.get(f"{url}/api/v1/me?{token}", headers=auth, timeout=10).status_code == 200
        assert requests.get(f"{url}/api/v1/me", headers={"Authorization": f"Bearer {token}x"},
                            timeout=10).status_code == 401
        assert requests.get(f"{url}/metrics?api_key={token}", headers=auth, timeout=10).status_code == 200
        assert requests.get(f"{url}/health?deep=1&sig={token}", timeout=10).status_code == 503  # the disk
        shot = requests.post(f"{url}/api/v1/screenshots/upload?t=1", headers=auth,
                             files={"file": ("s.png", png_bytes(), "image/png")}, timeout=10)
        assert shot.status_code == 503
    finally:
        stop_process(proc)
    log_text = err_path.read_text()
    refusal = [line for line in log_text.splitlines() if "refusing writes" in line]
    assert refusal and refusal[0].endswith("rid=disk-9"), log_text[-3000:]
    access = [line for line in log_text.splitlines() if PLAIN_LINE.match(line)]
    assert len(access) == 8, log_text[-3000:]  # the start-up /health probe and the 7 requests above
    assert PLAIN_LINE.match(access[1])["rid"] == "disk-9"
    assert PLAIN_LINE.match(access[-1])["path"] == "/api/v1/screenshots/upload?t=1"  # harmless values are kept
    assert "/api/v1/me?token=REDACTED&access_token=REDACTED" in log_text and "/api/v1/me?REDACTED" in log_text
    assert token not in log_text and token[4:] not in log_text
    for f in (tmp_path / "data").rglob("*.log"):
        assert token not in f.read_text()
