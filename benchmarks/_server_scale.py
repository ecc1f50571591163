"""Scale-out part of benchmarks/server_ingest.py (issue 17): ``--instances 1,2 --database sqlite,postgres --storage
local,s3``. Each setup: a fresh database (SQLite in the data dir, or a new database on a private PostgreSQL from
tests/postgres.py) and fresh storage (the data dir, shared by the instances; or a new bucket on moto's S3 server),
N ``snaplark-server serve`` processes behind one nginx round-robin balancer (tests/nginx.py; there for 1 instance
too, so both sides pay the same proxy), 20 concurrent recordings sending their parts through it. Printed per setup:
ingest throughput (first byte to last part's 200), p95 latency of one part's POST, and that every recording
finalized with the server's whole-file sha256 check passing (zero loss); then the 2-vs-1 instance ratio.

SQLite serves one process (its session locks are in process memory), so 2 instances are only measured on
PostgreSQL. moto keeps S3 objects in this process's memory: S3 figures say what the server costs per part, not
what AWS would do.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import statistics
import sys
import uuid
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[1]
MiB = 1024 * 1024


def _config_file(path: Path, storage: str, database_url: str | None, s3: dict | None) -> Path:
    lines = [f'storage = "{storage}"', 'access_log = "off"', "user_max_open_sessions = 0"]
    if database_url:
        lines += [f'database_url = "{database_url}"', "shared_data_dir = true", "database_pool_size = 20"]
    if s3:
        lines += [f'{k} = "{v}"' for k, v in s3.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


def _user(data_dir: Path, config: Path) -> str:
    from snaplark_server.config import load_config_file
    from snaplark_server.databases import open_database
    from snaplark_server.users import create_user

    db = open_database(load_config_file(config, data_dir=data_dir))
    try:
        return create_user(db, "bench")
    finally:
        db.close()


def _run_workload(url: str, token: str, sessions: int, parts: int, part_size: int) -> dict:
    from server_ingest import upload_concurrently

    headers = {"Authorization": f"Bearer {token}"}
    buffers = [(b"\x1a\x45\xdf\xa3" + hashlib.sha256(f"r{k}".encode()).digest() * (part_size // 32 + 1))[:part_size]
               for k in range(sessions)]
    run = upload_concurrently(url, headers, buffers, parts)
    latencies, errors = run["latencies"], run["errors"]
    finalized = 0
    for k, sid in enumerate(run["sids"]):
        whole = hashlib.sha256(buffers[k] * parts).hexdigest()
        r = requests.post(url + "/api/v1/videos/finalize", headers=headers, timeout=600, json={
            "sessionId": sid, "totalChunks": parts, "uploadedChunks": list(range(parts)), "sha256": whole})
        if r.status_code == 200:
            finalized += 1
        else:
            errors.append(f"finalize: {r.status_code} {r.text[:200]}")
    total = sessions * parts * part_size
    return {"mib_per_s": round(total / MiB / run["seconds"], 1), "p95_part_ms": round(1000 * _p95(latencies), 1),
            "median_part_ms": round(1000 * statistics.median(latencies), 1), "recordings": sessions,
            "finalized_with_sha256": finalized, "errors": errors[:3], "total_mib": round(total / MiB, 1)}


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]


@contextlib.contextmanager
def _instances(n: int, data_dir: Path, config: Path):
    from server_ingest import start_server

    from tests.nginx import free_port, round_robin_block, running_nginx
    from tests.procutil import stop_process

    procs = []
    try:
        urls = []
        for _ in range(n):
            proc, url = start_server(data_dir, config=config)
            procs.append(proc)
            urls.append(url)
        port = free_port()
        block = round_robin_block([int(u.rsplit(":", 1)[1]) for u in urls], port)
        base = f"http://127.0.0.1:{port}"

        def up() -> bool:
            try:
                return requests.get(base + "/health", timeout=2).ok
            except requests.ConnectionError:
                return False

        with running_nginx(data_dir.parent / f"nginx-{n}", block, up):
            yield base
    finally:
        for proc in procs:
            stop_process(proc, 15)


def run(args, root: Path) -> dict:
    sys.path[:0] = [str(REPO), str(REPO / "server"), str(REPO / "benchmarks")]
    from tests.postgres import PostgresCluster

    part_size = max(5 * MiB, args.part_mib * MiB)
    cluster = moto = None
    results: dict = {"sessions": args.sessions, "parts_per_recording": args.parts, "part_mib": part_size / MiB,
                     "cpu_count": os.cpu_count(), "setups": {}}
    try:
        if "postgres" in args.database:
            cluster = PostgresCluster().start()
        if "s3" in args.storage:
            import logging

            from moto.server import ThreadedMotoServer

            logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's server logs every request

            for key, value in (("AWS_ACCESS_KEY_ID", "bench"), ("AWS_SECRET_ACCESS_KEY", "bench"),
                               ("AWS_DEFAULT_REGION", "us-east-1")):
                os.environ.setdefault(key, value)
            moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
            moto.start()
        for database in args.database:
            for storage in args.storage:
                for n in args.instances:
                    name = f"{n} instance(s), {database}, {storage}"
                    if database == "sqlite" and n > 1:
                        results["setups"][name] = "n/a: SQLite serves one process (use PostgreSQL for several)"
                        continue
                    setup_dir = root / f"{database}-{storage}-{n}"
                    data_dir = setup_dir / "data"
                    data_dir.mkdir(parents=True)
                    url = cluster.create_database() if database == "postgres" else None
                    s3 = None
                    if storage == "s3":
                        host, port = moto.get_host_and_port()
                        s3 = {"s3_bucket": f"bench-{uuid.uuid4().hex[:10]}", "s3_endpoint_url": f"http://{host}:{port}",
                              "s3_region": "us-east-1"}
                    config = _config_file(setup_dir / "server.toml", storage, url, s3)
                    token = _user(data_dir, config)
                    with _instances(n, data_dir, config) as base:
                        results["setups"][name] = _run_workload(base, token, args.sessions, args.parts, part_size)
                    if url:
                        cluster.drop_database(url)
                    shutil.rmtree(data_dir, ignore_errors=True)
    finally:
        if moto is not None:
            moto.stop()
        if cluster is not None:
            cluster.stop()
    ratios = {}
    for database in args.database:
        for storage in args.storage:
            one, two = (results["setups"].get(f"{n} instance(s), {database}, {storage}") for n in (1, 2))
            if isinstance(one, dict) and isinstance(two, dict):
                ratios[f"{database}, {storage}"] = round(two["mib_per_s"] / one["mib_per_s"], 2)
    results["throughput_ratio_2_vs_1_instances"] = ratios
    return results
