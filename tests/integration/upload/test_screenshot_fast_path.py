"""What a screenshot's upload waits for: screenshots one after another reuse one HTTP connection (the engine keeps
its clients between uploads; counted where the reference server accepts its connections), ``UploadEngine.warm``
opens it ahead, and the journal fsyncs only what a power loss must not roll back."""

from __future__ import annotations

import io
import socket

import pytest
from PIL import Image

from .helpers import TokenHolder, make_engine


class CountingListener(socket.socket):
    """The server's listening socket, counting the connections it accepts (asyncio calls ``accept`` on it)."""

    accepted = 0

    def accept(self):
        conn, addr = super().accept()
        type(self).accepted += 1
        return conn, addr


@pytest.fixture
def counted_server(tmp_path):
    from snaplark_server.config import ServerConfig
    from snaplark_server.runner import ServerThread
    from snaplark_server.users import ensure_local_user

    sock = CountingListener(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    CountingListener.accepted = 0
    data_dir = tmp_path / "server-data"
    thread = ServerThread(ServerConfig(port=0, data_dir=data_dir), sock=sock).start()
    try:
        yield thread, ensure_local_user(data_dir, "alice")
    finally:
        thread.stop()


def shots(tmp_path, n: int) -> list:
    paths = []
    for i in range(n):
        out = io.BytesIO()
        Image.new("RGB", (32, 16), (i * 40, 20, 200)).save(out, "PNG")
        path = tmp_path / f"shot-{i}.png"
        path.write_bytes(out.getvalue())
        paths.append(path)
    return paths


def upload_all(engine, paths) -> list[str]:
    return [engine.upload_screenshot(path).wait(30) for path in paths]


def test_screenshots_in_a_row_share_one_connection(counted_server, journal, tmp_path):
    server, token = counted_server
    engine = make_engine(server.api_url, TokenHolder(token), journal)
    try:
        links = upload_all(engine, shots(tmp_path, 3))
    finally:
        assert engine.stop(10)
    assert len(set(links)) == 3
    assert CountingListener.accepted == 1


def test_warm_opens_the_connection_the_upload_then_uses(counted_server, journal, tmp_path):
    server, token = counted_server
    engine = make_engine(server.api_url, TokenHolder(token), journal)
    try:
        warming = engine.warm()
        warming.join(10)
        assert not warming.is_alive() and CountingListener.accepted == 1
        assert engine.warm() is None  # a client with its connection is already kept
        upload_all(engine, shots(tmp_path, 2))
    finally:
        assert engine.stop(10)
    assert CountingListener.accepted == 1


def test_no_idle_clients_means_a_connection_per_upload(counted_server, journal, tmp_path):
    server, token = counted_server
    engine = make_engine(server.api_url, TokenHolder(token), journal, idle_clients=0)
    try:
        upload_all(engine, shots(tmp_path, 3))
    finally:
        assert engine.stop(10)
    assert CountingListener.accepted == 3


def test_only_the_entry_and_the_completion_are_fsynced(counted_server, journal, tmp_path):
    """The journal entry (before the upload starts) and the completion with its history row are written with
    ``synchronous=FULL``; the step to UPLOADING in between is not (a restart resumes it from IDLE anyway)."""
    server, token = counted_server
    statements: list[str] = []
    journal.connection.set_trace_callback(statements.append)
    engine = make_engine(server.api_url, TokenHolder(token), journal)
    try:
        upload_all(engine, shots(tmp_path, 1))
    finally:
        assert engine.stop(10)
        journal.connection.set_trace_callback(None)
    mode, commits = "FULL", []
    for sql in statements:
        if sql.startswith("PRAGMA synchronous="):
            mode = sql.split("=", 1)[1]
        elif sql.startswith(("INSERT INTO sessions", "UPDATE sessions")):
            commits.append((sql.split()[0], "uploading" if "uploading" in sql else "", mode))
    writes = [(verb, mode) for verb, _, mode in commits]
    assert writes[0] == ("INSERT", "FULL") and writes[-1] == ("UPDATE", "FULL")  # the entry; the completion
    assert [c for c in commits if c[1]] == [("UPDATE", "uploading", "NORMAL")]
