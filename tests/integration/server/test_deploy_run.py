"""deploy/compose.yaml run from apt packages and PyPI instead of containers (issue 17): the one-shot ``db upgrade``
and two ``snaplark-server serve`` processes started with the exact argv and environment the compose file gives
them and deploy/server.toml, a real PostgreSQL database named as compose names it (tests/postgres.py), moto for
MinIO, real nginx running deploy/nginx.conf -- only the compose network's host names are mapped to the local
stand-ins (and the fixed ports to free ones). The admin command the README shows adds the user; a recording goes
through the README's client URL; its parts reach both instances and the file comes back sha256-identical. The
README's rolling restart (one instance at a time, under a live recording) loses and repeats nothing."""

from __future__ import annotations

import hashlib
import os
import random
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

from snaplark_server.config import S3_MIN_PART_SIZE
from tests.deploy_topology import Deploy, mapped
from tests.integration.upload.helpers import MIB, sha256_file
from tests.nginx import free_port, running_nginx
from tests.procutil import wait_until

from .conftest import stop_process
from .test_reverse_proxy import make_engine, sent_while_recording

CHUNK = '"POST /api/v1/videos/chunk" 200 '  # an instance's access log line for a stored part


def server_argv(argv: list[str], files: dict[str, str]) -> list[str]:
    """A compose ``snaplark-server`` step as a local command: container paths -> local files/dirs."""
    return [sys.executable, "-m", "snaplark_server", *(files.get(a, a) for a in argv)]


def run_step(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"{argv}: {done.stderr[-2000:]}"
    return done


def up(url: str) -> bool:
    try:
        return requests.get(url, timeout=5).status_code == 200
    except requests.RequestException:  # not listening yet, or busy starting
        return False


@dataclass
class Topology:
    deploy: Deploy
    tmp: Path
    socket_dir: Path
    names: dict[str, str]
    ports: dict[str, int]
    serve_port: str
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)
    base: str = ""
    site: str = ""
    token: str = ""

    def env_of(self, service: str) -> dict[str, str]:
        env = dict(self.deploy.environment(service))
        url = env["SNAPLARK_DATABASE_URL"]  # postgres -> the cluster's unix socket; user, password, db as given
        env["SNAPLARK_DATABASE_URL"] = url.replace("@postgres/", "@/") + f"?host={self.socket_dir}"
        return {**os.environ, **env}

    def files(self, service: str) -> dict[str, str]:
        return {"/etc/snaplark/server.toml": str(self.tmp / "server.toml"), "/var/lib/snaplark": str(self.tmp / service)}

    def start(self, name: str) -> None:
        """``name``'s compose command, until its compose health check answers."""
        (argv,) = self.deploy.server_steps(name)
        local = {**self.files(name), "0.0.0.0": "127.0.0.1", self.serve_port: str(self.ports[name])}
        with open(self.tmp / f"{name}.log", "a") as log:
            proc = subprocess.Popen(server_argv(argv, local), env=self.env_of(name), stdout=subprocess.DEVNULL,
                                    stderr=log)
        self.procs[name] = proc
        health = self.deploy.healthcheck_url(name).replace(f":{self.serve_port}/", f":{self.ports[name]}/")
        wait_until(lambda: up(health) or proc.poll() is not None, 60, f"{name}'s health check")
        assert proc.poll() is None, (self.tmp / f"{name}.log").read_text()[-3000:]

    def chunks(self) -> dict[str, int]:
        return {name: (self.tmp / f"{name}.log").read_text().count(CHUNK) for name in self.procs}


@pytest.fixture
def topology(tmp_path, postgres_cluster, moto_endpoint):
    deploy = Deploy.load()
    db_name = deploy.environment("postgres")["POSTGRES_DB"]
    postgres_cluster.admin(f"DROP DATABASE IF EXISTS {db_name} WITH (FORCE)")
    postgres_cluster.admin(f"CREATE DATABASE {db_name}")
    serving = deploy.serving()
    (serve_port,) = {up.rsplit(":", 1)[1] for up in deploy.upstreams()}
    ports = {name: free_port() for name in serving}
    names = {"minio:9000": moto_endpoint.split("//")[1],
             **{f"{name}:{serve_port}": f"127.0.0.1:{ports[name]}" for name in serving}}
    t = Topology(deploy, tmp_path, postgres_cluster.root, names, ports, serve_port)
    (tmp_path / "server.toml").write_text(mapped(deploy.mounts("server1")["/etc/snaplark/server.toml"].read_text(),
                                                 names))
    try:
        (upgrade,) = deploy.server_steps("migrate")
        done = run_step(server_argv(upgrade, t.files("migrate")), t.env_of("migrate"))
        assert "database schema at version" in done.stdout
        for name in serving:
            t.start(name)
        add = [argv for argv in deploy.documented_server_commands() if argv[-3:-1] == ["user", "add"]][0]
        t.token = run_step(server_argv(add, t.files(serving[0])), t.env_of(serving[0])).stdout.strip().splitlines()[-1]
        balancer = free_port()
        block = deploy.nginx.replace(f"listen {deploy.nginx_listen()};", f"listen 127.0.0.1:{balancer};")
        t.site = "http://localhost:%d" % deploy.published("nginx")[deploy.nginx_listen()]
        t.base = f"http://127.0.0.1:{balancer}"
        with running_nginx(tmp_path / "nginx", mapped(block, names), lambda: up(f"{t.base}/health")):
            yield t
    finally:
        for proc in t.procs.values():
            stop_process(proc)
        postgres_cluster.admin(f"DROP DATABASE IF EXISTS {db_name} WITH (FORCE)")


@pytest.fixture
def journal(tmp_path):
    from tray.upload.journal import UploadJournal

    j = UploadJournal(tmp_path / "client" / "uploads.sqlite3").open()
    yield j
    j.close()


def engine_for(t: Topology, journal):
    (login,) = [argv for argv in t.deploy.documented_client_commands() if argv[0] == "login"]
    return make_engine(login[login.index("--server") + 1].replace(t.site, t.base), t.token, True, journal)


def check_stored(t: Topology, url: str, path: Path) -> None:
    assert url.startswith(f"{t.site}/v/"), url  # server.toml's site_url: the address users reach
    r = requests.get(url.replace(t.site, t.base), headers={"Authorization": f"Bearer {t.token}"}, timeout=60)
    assert r.status_code == 200 and hashlib.sha256(r.content).hexdigest() == sha256_file(path)


def test_the_compose_topology_runs_and_carries_a_recording(topology, journal, tmp_path):
    path = tmp_path / "rec.webm"
    path.write_bytes(b"\x1a\x45\xdf\xa3" + random.Random(5).randbytes(16 * MIB))
    engine = engine_for(topology, journal)
    try:
        upload = engine.upload_file(path, {"fps": 25})
        url = upload.wait(120)
    finally:
        assert engine.stop(10)
    check_stored(topology, url, path)
    parts = [p for p in journal.parts(upload.id) if p.acked]
    chunks = topology.chunks()
    assert sum(chunks.values()) == len(parts) >= 3 and all(chunks.values()), chunks  # both carried parts


def test_rolling_restart_under_a_live_recording(topology, journal, tmp_path):
    """deploy/README.md: restart one instance at a time (SIGTERM, as ``docker compose restart`` sends), each back
    once its health check answers, while a recording streams its parts through nginx."""
    path = tmp_path / "rec.webm"
    size = 22 * MIB
    path.write_bytes(b"\x1a\x45\xdf\xa3" + random.Random(8).randbytes(size - 4))
    engine = engine_for(topology, journal)
    try:
        up_ = engine.start_recording_upload(path, {"resolution": "1920x1080"})
        for n, restart in ((6 * MIB, "server1"), (12 * MIB, "server2"), (18 * MIB, None)):
            up_.durable(n)  # a 5 MiB+ part goes out now ...
            if restart:
                proc = topology.procs[restart]
                proc.terminate()  # ... while one instance shuts down (in-flight requests finish) and comes back
                proc.wait(30)
                topology.start(restart)
            wait_until(lambda: sent_while_recording(journal.parts(up_.id), n, S3_MIN_PART_SIZE), 90, f"parts to {n}")
        up_.finished(size, 22.0, {})
        url = up_.wait(120)
    finally:
        assert engine.stop(10)
    check_stored(topology, url, path)
    parts = journal.parts(up_.id)
    assert [p.index for p in parts] == list(range(len(parts))) and all(p.acked for p in parts)
    assert sum(topology.chunks().values()) == len(parts) >= 4  # each part stored once
    for name in ("server1", "server2"):  # both were restarted
        assert (tmp_path / f"{name}.log").read_text().count("Application startup complete") == 2
