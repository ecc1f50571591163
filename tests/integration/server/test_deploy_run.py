"""deploy/compose.yaml run from apt packages and PyPI instead of containers (issue 17): the one-shot ``db upgrade``
and two ``snaplark-server serve`` processes started with the exact argv and environment the compose file gives
them and deploy/server.toml, a real PostgreSQL database named as compose names it (tests/postgres.py), moto for
MinIO, real nginx running deploy/nginx.conf -- only the compose network's host names are mapped to the local
stand-ins (and the fixed ports to free ones). The admin command the README shows adds the user; a recording goes
through the README's client URL; its parts reach both instances and the file comes back sha256-identical."""

from __future__ import annotations

import hashlib
import os
import random
import subprocess
import sys

import requests

from tests.deploy_topology import Deploy, mapped
from tests.integration.upload.helpers import MIB, sha256_file
from tests.nginx import free_port, running_nginx
from tests.procutil import wait_until

from .conftest import stop_process
from .test_reverse_proxy import make_engine

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


def test_the_compose_topology_runs_and_carries_a_recording(tmp_path, postgres_cluster, moto_endpoint):
    from tray.upload.journal import UploadJournal

    deploy = Deploy.load()
    db_name = deploy.environment("postgres")["POSTGRES_DB"]
    postgres_cluster.admin(f"DROP DATABASE IF EXISTS {db_name} WITH (FORCE)")
    postgres_cluster.admin(f"CREATE DATABASE {db_name}")
    serving = deploy.serving()
    ports = {name: free_port() for name in serving}
    balancer = free_port()
    (serve_port,) = {up.rsplit(":", 1)[1] for up in deploy.upstreams()}
    names = {"minio:9000": moto_endpoint.split("//")[1],
             **{f"{name}:{serve_port}": f"127.0.0.1:{ports[name]}" for name in serving}}
    toml = tmp_path / "server.toml"
    toml.write_text(mapped((deploy.mounts("server1")["/etc/snaplark/server.toml"]).read_text(), names))
    procs: list[subprocess.Popen] = []
    journal = UploadJournal(tmp_path / "client" / "uploads.sqlite3").open()
    try:
        def env_of(service: str) -> dict[str, str]:
            env = {k: v for k, v in deploy.environment(service).items()}
            url = env["SNAPLARK_DATABASE_URL"]  # postgres -> the cluster's unix socket; user, password, db as given
            env["SNAPLARK_DATABASE_URL"] = url.replace("@postgres/", "@/") + f"?host={postgres_cluster.root}"
            return {**os.environ, **env}

        files = {"/etc/snaplark/server.toml": str(toml)}
        (upgrade,) = deploy.server_steps("migrate")
        assert "database schema at version" in run_step(server_argv(upgrade, files), env_of("migrate")).stdout
        for name in serving:
            (argv,) = deploy.server_steps(name)
            local = {**files, "/var/lib/snaplark": str(tmp_path / name), "0.0.0.0": "127.0.0.1",
                     serve_port: str(ports[name])}
            log = open(tmp_path / f"{name}.log", "w")
            procs.append(subprocess.Popen(server_argv(argv, local), env=env_of(name), stdout=subprocess.DEVNULL,
                                          stderr=log))
            log.close()
            health = deploy.healthcheck_url(name).replace(f":{serve_port}/", f":{ports[name]}/")
            wait_until(lambda: up(health) or procs[-1].poll() is not None, 60, f"{name}'s health check")
            assert procs[-1].poll() is None, (tmp_path / f"{name}.log").read_text()[-3000:]
        add = [argv for argv in deploy.documented_server_commands() if argv[-3:-1] == ["user", "add"]][0]
        local = {**files, "/var/lib/snaplark": str(tmp_path / serving[0])}
        token = run_step(server_argv(add, local), env_of(serving[0])).stdout.strip().splitlines()[-1]

        block = deploy.nginx.replace(f"listen {deploy.nginx_listen()};", f"listen 127.0.0.1:{balancer};")
        site = "http://localhost:%d" % deploy.published("nginx")[deploy.nginx_listen()]
        base = f"http://127.0.0.1:{balancer}"
        with running_nginx(tmp_path / "nginx", mapped(block, names), lambda: up(f"{base}/health")):
            (login,) = [argv for argv in deploy.documented_client_commands() if argv[0] == "login"]
            api = login[login.index("--server") + 1].replace(site, base)
            path = tmp_path / "rec.webm"
            path.write_bytes(b"\x1a\x45\xdf\xa3" + random.Random(5).randbytes(16 * MIB))
            engine = make_engine(api, token, True, journal)
            try:
                upload = engine.upload_file(path, {"fps": 25})
                url = upload.wait(120)
            finally:
                assert engine.stop(10)
            assert url.startswith(f"{site}/v/"), url  # server.toml's site_url: the address users reach
            r = requests.get(url.replace(site, base), headers={"Authorization": f"Bearer {token}"}, timeout=60)
            assert r.status_code == 200 and hashlib.sha256(r.content).hexdigest() == sha256_file(path)
        parts = [p for p in journal.parts(upload.id) if p.acked]
        chunks = {name: (tmp_path / f"{name}.log").read_text().count(CHUNK) for name in serving}
        assert sum(chunks.values()) == len(parts) >= 3 and all(chunks.values()), chunks  # both carried parts
    finally:
        journal.close()
        for proc in procs:
            stop_process(proc)
        postgres_cluster.admin(f"DROP DATABASE IF EXISTS {db_name} WITH (FORCE)")
