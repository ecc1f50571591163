"""Background measurement of videos (issue 15): finalize answers before the duration and poster exist; the page is
complete without them (no poster, no duration, a placeholder preview image) and shows them once the job has run;
a job a server left pending (stopped mid-job) is run by the next start; a video PyAV cannot read ends its job as
``failed`` and keeps its page. Real server over HTTP, local disk and S3 on moto; the job is held on an event
through the worker's ``before_job`` hook (no sleeps)."""

from __future__ import annotations

import io
import re
import threading

import pytest
import requests

from snaplark_server.db import Database
from snaplark_server.runner import ServerThread
from tests.integration.server.conftest import webm_bytes
from tests.integration.server.test_share_pages import (  # noqa: F401  (videos: a fixture)
    SIZE, luma_stddev, parse, upload_video, videos)

WAIT = 60.0


def job_row(s, vid: str):
    return s.db.query_one("SELECT state, attempts, error FROM media_jobs WHERE object_id = ?", (vid,))


def hold_jobs(jobs) -> tuple[threading.Event, threading.Event]:
    """Make the worker wait before each job until ``release`` is set (or the server stops)."""
    started, release = threading.Event(), threading.Event()

    def before_job(object_id: str, kind: str) -> None:
        started.set()
        release.wait(WAIT)

    jobs.before_job = before_job
    return started, release


def test_finalize_answers_before_measurement_and_the_page_fills_in(srv, videos):
    jobs = srv.thread.app.state.media_jobs
    started, release = hold_jobs(jobs)
    try:
        answer = upload_video(srv, videos["webm"], "webm", measured=False)  # returns while the job is held
        assert started.wait(WAIT)
        vid = answer["pageUrl"].rsplit("/", 1)[1]
        assert job_row(srv, vid)["state"] == "pending"

        page = requests.get(answer["pageUrl"], timeout=30)
        assert page.status_code == 200
        doc = parse(page.text)
        assert "poster" not in doc.first("video") and doc.first("img") is None  # no broken image
        assert 'class="duration"' not in page.text and 'class="size"' in page.text
        m = doc.meta
        assert m["og:image"] == f"{srv.url}/static/video-placeholder.png" and m["og:image:type"] == "image/png"
        assert m["twitter:image"] == m["og:image"] and "video:duration" not in m
        placeholder = requests.get(m["og:image"], timeout=30)
        from PIL import Image

        assert placeholder.headers["content-type"] == "image/png"
        assert Image.open(io.BytesIO(placeholder.content)).size == (int(m["og:image:width"]),
                                                                   int(m["og:image:height"]))
        assert requests.get(answer["pageUrl"] + ".jpg", timeout=30).status_code == 404
        o = requests.get(f"{srv.url}/oembed", params={"url": answer["pageUrl"]}, timeout=30).json()
        assert "thumbnail_url" not in o
        assert requests.get(answer["url"], timeout=30).content == videos["webm"]  # the file plays meanwhile
    finally:
        release.set()
    assert jobs.wait_idle(WAIT)
    assert job_row(srv, vid)["state"] == "done"
    page = requests.get(answer["pageUrl"], timeout=30)
    doc = parse(page.text)
    assert doc.first("video")["poster"] == f"/v/{vid}.jpg" and re.search(r'class="duration">0:0[34]<', page.text)
    assert doc.meta["og:image"] == f"{srv.url}/v/{vid}.jpg" and doc.meta["og:image:type"] == "image/jpeg"
    assert (doc.meta["og:image:width"], doc.meta["og:image:height"]) == tuple(map(str, SIZE))
    assert luma_stddev(requests.get(doc.meta["og:image"], timeout=30).content) > 20


def test_a_pending_job_is_run_after_a_restart(make_server, videos):
    s = make_server("local")
    jobs = s.thread.app.state.media_jobs
    started = threading.Event()

    def until_stopped(object_id: str, kind: str) -> None:  # the server stops while this job runs
        started.set()
        jobs.stopping.wait(WAIT)

    jobs.before_job = until_stopped
    answer = upload_video(s, videos["mp4"], "mp4", measured=False)
    vid = answer["pageUrl"].rsplit("/", 1)[1]
    assert started.wait(WAIT)
    s.thread.stop()
    db = Database.in_data_dir(s.data_dir)  # what the next start finds
    try:
        assert db.query_one("SELECT state FROM media_jobs WHERE object_id = ?", (vid,))["state"] == "pending"
        assert db.query_one("SELECT poster_key FROM objects WHERE id = ?", (vid,))["poster_key"] is None
    finally:
        db.close()

    again = ServerThread(s.thread.config).start()
    try:
        assert again.app.state.media_jobs.wait_idle(WAIT)
        row = again.app.state.db.query_one("SELECT state, attempts FROM media_jobs WHERE object_id = ?", (vid,))
        assert (row["state"], row["attempts"]) == ("done", 1)
        page = requests.get(f"{again.url}/v/{vid}", timeout=30)
        assert parse(page.text).first("video")["poster"] == f"/v/{vid}.jpg"
        assert re.search(r'class="duration">0:0[34]<', page.text)
        assert requests.get(f"{again.url}/v/{vid}.jpg", timeout=30).content[:3] == b"\xff\xd8\xff"
    finally:
        again.stop()


def test_an_unreadable_video_fails_its_job_and_keeps_its_page(local_srv):
    answer = upload_video(local_srv, webm_bytes(200_000), "webm")  # an EBML header, then no video at all
    vid = answer["pageUrl"].rsplit("/", 1)[1]
    row = job_row(local_srv, vid)
    assert row["state"] == "failed" and "no poster or duration" in row["error"] and row["attempts"] == 1
    page = requests.get(answer["pageUrl"], timeout=30)
    assert page.status_code == 200 and "poster" not in parse(page.text).first("video")
    assert requests.get(answer["url"], timeout=30).status_code == 200


def test_two_instances_on_one_database_run_a_job_once(tmp_path):
    """Several instances (PostgreSQL): a job claimed by one is not taken by another until the lease has passed
    (the claiming instance died); each attempt is claimed by a compare-and-set. Two `MediaJobs` on two connections
    to one database file, the wall clock injected."""
    from snaplark_server.media_jobs import MEASURE, MediaJobs
    from tray.upload.backoff import FakeClock

    path = tmp_path / "meta.sqlite3"
    first, second = Database(path), Database(path)
    with first.write() as conn:
        conn.execute("INSERT INTO users (name, created_at) VALUES ('alice', 0)")
        conn.execute("INSERT INTO objects (id, user_id, kind, object_key, content_type, size, sha256, created_at)"
                     " VALUES ('vid1', 1, 'video', 'videos/vid1.webm', 'video/webm', 1, '', 0)")
    clock = FakeClock(1_700_000_000.0)
    calls: list[str] = []
    started, release = threading.Event(), threading.Event()

    def slow(object_id: str) -> None:
        calls.append("a")
        started.set()
        release.wait(WAIT)

    a = MediaJobs(first, {MEASURE: slow}, clock=clock, lease=600.0)
    b = MediaJobs(second, {MEASURE: lambda object_id: calls.append("b")}, clock=clock, lease=600.0)
    with first.write() as conn:
        a.enqueue(conn, "vid1")
    assert [r["object_id"] for r in b.claimable()] == ["vid1"]
    a.start()
    try:
        assert started.wait(WAIT)
        assert b.claimable() == []  # claimed by a live instance
        clock.advance(601)
        assert [r["object_id"] for r in b.claimable()] == ["vid1"]  # the lease is over: a is taken for dead
        clock.advance(-601)
        release.set()
        assert a.wait_idle(WAIT)
    finally:
        release.set()
        a.stop()
    assert calls == ["a"] and b.claimable() == []
    row = second.query_one("SELECT state, attempts FROM media_jobs WHERE object_id = 'vid1'")
    assert (row["state"], row["attempts"]) == ("done", 1)
    first.close()
    second.close()
