"""Reference-server ingest benchmark (side by side, same run, same disk).

1. Raw baseline: write the same bytes sequentially to one file on the same filesystem (1 MiB writes, fsync at
   the end) -> MB/s.
2. Server: `python -m snaplark_server serve` in a subprocess (local storage); N concurrent sessions (threads, one
   HTTP connection each) upload their parts (sha256 extension on) -> ingest MB/s from first byte to last 200 answer,
   then finalize all sessions (assembly) and report that time too.
3. Peak RSS of the server process, sampled every 20 ms with psutil during the whole ingest + finalize.
4. /health under a slow-header attack (issue 16): a second server process with ``ulimit -n 1024``, an attacker
   process holding 1,100 connections whose request head never ends (one more header line per connection every
   second; closed ones re-opened, as slowloris does), and meanwhile ``GET /api/v1/health`` on a new connection
   every 50 ms -> p50 / p99 / max latency and the number that got no answer within 5 s; the server's log size.
   The same probes go, alternately, to a third server that nobody attacks: its p99 is what the machine itself
   adds (other processes, the attacker's own CPU), to read the attacked p99 against.

Goals: ingest throughput >= 0.5 x raw sequential write (issue 4); peak server RSS <= 150 MiB while ingesting 1 GiB;
/health p99 <= 50 ms during the attack, none unanswered (issue 16).

    python benchmarks/server_ingest.py                 # 20 sessions, 1 GiB total, then the attack
    python benchmarks/server_ingest.py --sessions 20 --total-mib 1024 --json
    python benchmarks/server_ingest.py --attack-connections 0     # ingest only
    python benchmarks/server_ingest.py --server-config limits.toml  # with quotas, reserve, access log ... set

Scale-out (issue 17, benchmarks/_server_scale.py): N instances behind nginx, SQLite or PostgreSQL, local or S3;
throughput and p95 part latency per setup, 20 concurrent recordings, and the 2-vs-1 instance ratio:

    python benchmarks/server_ingest.py --instances 1,2 --database sqlite,postgres --storage local,s3
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil
import requests

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
from tests.procutil import stop_process

MiB = 1024 * 1024
S3_MIN = 5 * MiB


def raw_sequential_write(path: Path, block: bytes, total: int) -> float:
    t0 = time.perf_counter()
    written = 0
    with open(path, "wb") as fh:
        while written < total:
            n = min(len(block), total - written)
            fh.write(block[:n] if n < len(block) else block)
            written += n
        fh.flush()
        os.fsync(fh.fileno())
    elapsed = time.perf_counter() - t0
    path.unlink()
    return elapsed


def start_server(data_dir: Path, nofile: int | None = None, stderr=subprocess.DEVNULL,
                 config: Path | None = None) -> tuple[subprocess.Popen, str]:
    """``nofile``: RLIMIT_NOFILE (soft and hard) for the server process; ``config``: its TOML config file."""
    def limit_fds() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))

    config_args = ["--config", str(config)] if config else []
    proc = subprocess.Popen([sys.executable, "-m", "snaplark_server", "--data-dir", str(data_dir), *config_args,
                             "serve", "--port", "0"], stdout=subprocess.PIPE, stderr=stderr, text=True, cwd=REPO,
                            preexec_fn=limit_fds if nofile else None)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if "listening on" in line:
            url = line.strip().rsplit(" ", 1)[-1]
            while time.monotonic() < deadline:
                try:
                    if requests.get(url + "/health", timeout=2).ok:
                        return proc, url
                except requests.exceptions.ConnectionError:
                    time.sleep(0.05)
        if proc.poll() is not None:
            break
    proc.kill()
    raise RuntimeError("server did not start")


class RssSampler(threading.Thread):
    def __init__(self, pid: int, interval: float = 0.02) -> None:
        super().__init__(daemon=True)
        self.proc = psutil.Process(pid)
        self.interval = interval
        self.peak = 0
        self.samples = 0
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            try:
                self.peak = max(self.peak, self.proc.memory_info().rss)
                self.samples += 1
            except psutil.Error:
                return
            self._halt.wait(self.interval)

    def stop(self) -> None:
        self._halt.set()
        self.join(5)


def multipart(session_id: str, index: int, digest: str, data: bytes) -> tuple[bytes, str]:
    b = "----snaplarkbench7f3a"
    head = (f"--{b}\r\nContent-Disposition: form-data; name=\"sessionId\"\r\n\r\n{session_id}\r\n"
            f"--{b}\r\nContent-Disposition: form-data; name=\"chunkIndex\"\r\n\r\n{index}\r\n"
            f"--{b}\r\nContent-Disposition: form-data; name=\"sha256\"\r\n\r\n{digest}\r\n"
            f"--{b}\r\nContent-Disposition: form-data; name=\"chunk\"; filename=\"chunk_{index}.webm\"\r\n"
            f"Content-Type: video/webm\r\n\r\n").encode()
    return head + data + f"\r\n--{b}--\r\n".encode(), f"multipart/form-data; boundary={b}"


def upload_concurrently(url: str, headers: dict, buffers: list[bytes], parts: int) -> dict:
    """One session per buffer, each sending ``parts`` copies of its buffer (sha256 extension on) over its own HTTP
    connection, all starting together: {"sids", "seconds" (first byte to the last answer), "latencies" (each part's
    POST, s), "errors" ("part i: status text", all sessions)}."""
    init = {"filename": "bench.webm", "timestamp": 1, "fps": 30, "codec": "vp9", "bitrate": 2_500_000,
            "resolution": "1920x1080"}
    sids = [requests.post(url + "/api/v1/videos/init", json=init, headers=headers, timeout=60).json()["sessionId"]
            for _ in buffers]
    latencies: list[float] = []
    errors: list[str] = []
    barrier = threading.Barrier(len(buffers) + 1, timeout=120)

    def upload(k: int) -> None:
        http = requests.Session()
        digest = hashlib.sha256(buffers[k]).hexdigest()
        barrier.wait()
        for i in range(parts):
            body, ctype = multipart(sids[k], i, digest, buffers[k])
            t0 = time.perf_counter()
            r = http.post(url + "/api/v1/videos/chunk", data=body, timeout=600,
                          headers={**headers, "Content-Type": ctype})
            latencies.append(time.perf_counter() - t0)
            if r.status_code != 200:
                errors.append(f"part {i}: {r.status_code} {r.text[:200]}")

    threads = [threading.Thread(target=upload, args=(k,), daemon=True) for k in range(len(buffers))]
    for t in threads:
        t.start()
    barrier.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join(3600)
    return {"sids": sids, "seconds": time.perf_counter() - t0, "latencies": latencies, "errors": errors}


def ingest(url: str, headers: dict, args, buffers: list[bytes]) -> float:
    """N concurrent sessions upload their parts; returns seconds from the first byte to the last 200."""
    run = upload_concurrently(url, headers, buffers, args.parts)
    if run["errors"]:
        raise RuntimeError(f"upload failed: {run['errors'][0]}")
    ingest.sids = run["sids"]  # for finalize_all
    return run["seconds"]


def finalize_all(url: str, headers: dict, args, buffers: list[bytes]) -> float:
    t0 = time.perf_counter()
    for k, sid in enumerate(ingest.sids):
        whole = hashlib.sha256()
        for _ in range(args.parts):
            whole.update(buffers[k])
        r = requests.post(url + "/api/v1/videos/finalize", headers=headers, timeout=600, json={
            "sessionId": sid, "totalChunks": args.parts, "uploadedChunks": list(range(args.parts)),
            "duration": 1.0, "metadata": {}, "sha256": whole.hexdigest()})
        if r.status_code != 200:
            raise RuntimeError(f"finalize failed: {r.text}")
    return time.perf_counter() - t0


SLOW_HEAD = b"POST /api/v1/videos/chunk HTTP/1.1\r\nHost: bench\r\nUser-Agent: slowloris\r\n"


def slowloris(host: str, port: int, count: int, ready, halt, opened) -> None:
    """Attacker process: ``count`` connections with a never-ending request head (see the module docstring)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = count + 256
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want if hard == resource.RLIM_INFINITY else min(want, hard), hard))

    def connect() -> socket.socket | None:
        try:
            s = socket.create_connection((host, port), timeout=3)
            s.sendall(SLOW_HEAD)
            s.settimeout(0.2)
            with opened.get_lock():
                opened.value += 1
            return s
        except OSError:
            return None

    socks = [connect() for _ in range(count)]
    ready.set()
    while not halt.wait(1.0):
        for i, s in enumerate(socks):
            if halt.is_set():
                break
            if s is not None:
                try:
                    s.send(b"X-Slow: 1\r\n")
                    continue
                except OSError:
                    s.close()
            socks[i] = connect()
    for s in socks:
        if s is not None:
            s.close()


def _probe(url: str) -> float | None:
    """Milliseconds for ``GET /api/v1/health`` on a new connection; None if no answer within 5 s."""
    t0 = time.perf_counter()
    try:
        ok = requests.get(url + "/api/v1/health", timeout=5, headers={"Connection": "close"}).status_code == 200
    except requests.RequestException:
        ok = False
    return (time.perf_counter() - t0) * 1000 if ok else None


def _percentiles(latencies: list[float]) -> dict:
    lat = sorted(latencies)

    def pct(q: float) -> float | None:
        return round(lat[min(len(lat) - 1, int(q * len(lat)))], 1) if lat else None

    return {"p50_ms": pct(0.50), "p90_ms": pct(0.90), "p99_ms": pct(0.99),
            "max_ms": round(lat[-1], 1) if lat else None}


def health_under_attack(root: Path, args) -> dict:
    """Section 4 of the module docstring: a fresh server with ``--attack-nofile``, the attacker, /health probes
    to it and to an un-attacked control server."""
    log_path = root / "attack-server.log"
    with open(log_path, "wb") as log:
        proc, url = start_server(root / "attack-server", nofile=args.attack_nofile, stderr=log,
                                 config=args.server_config)
    control, control_url = start_server(root / "control-server", nofile=args.attack_nofile, config=args.server_config)
    host, port = url.rsplit("/", 1)[-1].rsplit(":", 1)
    ctx = multiprocessing.get_context("fork")
    ready, halt, opened = ctx.Event(), ctx.Event(), ctx.Value("i", 0)
    attacker = ctx.Process(target=slowloris, args=(host, int(port), args.attack_connections, ready, halt, opened),
                           daemon=True)
    attacked: list[float] = []
    calm: list[float] = []
    unanswered = 0
    try:
        attacker.start()
        if not ready.wait(120):
            raise RuntimeError("the attacker could not open its connections")
        time.sleep(1.0)
        end = time.monotonic() + args.attack_seconds
        while time.monotonic() < end:
            ms = _probe(url)
            if ms is None:
                unanswered += 1
            else:
                attacked.append(ms)
            ms = _probe(control_url)
            if ms is not None:
                calm.append(ms)
            time.sleep(0.05)
    finally:
        halt.set()
        attacker.join(30)
        if attacker.is_alive():
            attacker.kill()
        for p in (proc, control):
            stop_process(p, 15)
    result = {"attack_connections": args.attack_connections, "attack_connects_incl_reopened": opened.value,
              "attack_server_nofile": args.attack_nofile, "health_probes": len(attacked) + unanswered,
              "health_unanswered_5s": unanswered}
    result.update({f"health_{k}": v for k, v in _percentiles(attacked).items()})
    result.update({f"health_control_{k}": v for k, v in _percentiles(calm).items()})
    result["attack_server_log_bytes"] = log_path.stat().st_size
    return result


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sessions", type=int, default=20)
    ap.add_argument("--total-mib", type=int, default=1024)
    ap.add_argument("--parts", type=int, default=10, help="parts per session")
    ap.add_argument("--dir", type=Path, default=None, help="where to put data (default: a temp dir)")
    ap.add_argument("--repeat", type=int, default=3, help="rounds (raw + server back to back); median reported")
    ap.add_argument("--attack-connections", type=int, default=1100, help="slow-header connections (0 = skip)")
    ap.add_argument("--attack-nofile", type=int, default=1024, help="open-files limit of the attacked server")
    ap.add_argument("--attack-seconds", type=float, default=15.0, help="how long /health is probed under attack")
    ap.add_argument("--server-config", type=Path, default=None,
                    help="TOML config file of every server started (limits, quotas, access_log ...)")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--instances", type=_csv(int), default=None, help="scale-out: e.g. 1,2 (instances behind nginx)")
    ap.add_argument("--database", type=_csv(str, ("sqlite", "postgres")), default=None, help="scale-out: sqlite,postgres")
    ap.add_argument("--storage", type=_csv(str, ("local", "s3")), default=None, help="scale-out: local,s3")
    ap.add_argument("--part-mib", type=int, default=5, help="scale-out: part size (S3 needs >= 5)")
    args = ap.parse_args()
    if args.instances or args.database or args.storage:
        return _scale_out(args)

    total = args.total_mib * MiB
    part_size = total // (args.sessions * args.parts)
    if part_size < S3_MIN:
        ap.error(f"parts would be {part_size} bytes (< 5 MiB): lower --parts or raise --total-mib")
    total = part_size * args.sessions * args.parts

    root = Path(tempfile.mkdtemp(prefix="snaplark-bench-", dir=args.dir))
    try:
        data_dir = root / "server"
        sys.path.insert(0, str(REPO / "server"))
        from snaplark_server.db import Database
        from snaplark_server.users import create_user

        db = Database.in_data_dir(data_dir)
        token = create_user(db, "bench")
        db.close()

        # one distinct buffer per session (client memory is not what we measure)
        buffers = [hashlib.sha256(f"s{k}".encode()).digest() * (part_size // 32 + 1) for k in range(args.sessions)]
        # each starts like a WebM file (EBML header): finalize checks part 0's container signature (issue 16)
        buffers = [(b"\x1a\x45\xdf\xa3" + b)[:part_size] for b in buffers]

        proc, url = start_server(data_dir, config=args.server_config)
        sampler = RssSampler(proc.pid)
        server_ps = psutil.Process(proc.pid)
        idle_rss = server_ps.memory_info().rss
        sampler.start()
        rounds = []
        try:
            headers = {"Authorization": f"Bearer {token}"}
            for _ in range(args.repeat):
                # raw baseline and server ingest back to back, so both see the same machine load
                raw_s = raw_sequential_write(root / "raw.bin", buffers[0][: 4 * MiB], total)
                cpu0 = sum(server_ps.cpu_times()[:2])
                ingest_s = ingest(url, headers, args, buffers)
                cpu_ingest = sum(server_ps.cpu_times()[:2]) - cpu0
                ingest_rss = sampler.peak
                finalize_s = finalize_all(url, headers, args, buffers)
                rounds.append({"raw_s": raw_s, "ingest_s": ingest_s, "finalize_s": finalize_s,
                               "ratio": raw_s / ingest_s, "server_cpu_s": cpu_ingest, "ingest_rss": ingest_rss})
            sampler.stop()
        finally:
            sampler.stop()
            stop_process(proc, 15)

        med = sorted(rounds, key=lambda r: r["ratio"])[len(rounds) // 2]
        gib = total / (1024 * MiB)
        result = {
            "sessions": args.sessions, "parts_per_session": args.parts, "part_bytes": part_size,
            "total_mib": round(total / MiB, 1), "rounds": len(rounds),
            "raw_mib_per_s_median_round": round(total / MiB / med["raw_s"], 1),
            "server_ingest_mib_per_s_median_round": round(total / MiB / med["ingest_s"], 1),
            "ratio_ingest_vs_raw_median": round(med["ratio"], 3),
            "ratio_ingest_vs_raw_each_round": [round(r["ratio"], 3) for r in rounds],
            "ratio_ingest_plus_finalize_vs_raw_median_round": round(med["raw_s"] / (med["ingest_s"] + med["finalize_s"]), 3),
            "finalize_all_s_median_round": round(med["finalize_s"], 3),
            "server_cpu_s_per_gib_ingest": round(statistics.median(r["server_cpu_s"] for r in rounds) / gib, 2),
            "server_idle_rss_mib": round(idle_rss / MiB, 1),
            "server_peak_rss_mib_ingest": round(max(r["ingest_rss"] for r in rounds) / MiB, 1),
            "server_peak_rss_mib_overall": round(sampler.peak / MiB, 1),
            "rss_samples": sampler.samples, "cpu_count": os.cpu_count(),
            "load_avg_1min_at_end": round(os.getloadavg()[0], 2),
        }
        if args.attack_connections > 0:
            result.update(health_under_attack(root, args))
    finally:
        shutil.rmtree(root, ignore_errors=True)

    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for k, v in result.items():
            print(f"{k:42s} {v}")
        print(f"\nratio {result['ratio_ingest_vs_raw_median']} (median of {len(rounds)}; goal >= 0.5); peak server RSS "
              f"{result['server_peak_rss_mib_overall']} MiB (goal <= 150)")
        if args.attack_connections > 0:
            print(f"/health under {args.attack_connections} slow-header connections (server ulimit -n "
                  f"{args.attack_nofile}): p99 {result['health_p99_ms']} ms (goal <= 50; un-attacked server "
                  f"{result['health_control_p99_ms']} ms), {result['health_unanswered_5s']} of "
                  f"{result['health_probes']} unanswered in 5 s (goal 0)")
    return 0


def _csv(kind, allowed: tuple = ()):
    def parse(text: str) -> list:
        values = [kind(v.strip()) for v in text.split(",") if v.strip()]
        bad = [v for v in values if allowed and v not in allowed]
        if bad or not values:
            raise argparse.ArgumentTypeError(f"expected a comma-separated list of {', '.join(map(str, allowed)) or kind.__name__}")
        return values
    return parse


def _scale_out(args) -> int:
    from _server_scale import run

    args.instances = args.instances or [1, 2]
    args.database = args.database or ["sqlite", "postgres"]
    args.storage = args.storage or ["local", "s3"]
    if args.sessions == 20 and args.parts == 10:  # the single-server defaults: 1 GiB is too much for moto's RAM
        args.parts = 2
    root = Path(tempfile.mkdtemp(prefix="snaplark-bench-scale-", dir=args.dir))
    try:
        result = run(args, root)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"{args.sessions} concurrent recordings x {args.parts} parts of {result['part_mib']:g} MiB, through nginx; "
          f"{result['cpu_count']} CPUs")
    for name, r in result["setups"].items():
        if isinstance(r, str):
            print(f"{name:36s} {r}")
            continue
        print(f"{name:36s} {r['mib_per_s']:7.1f} MiB/s  p95 part {r['p95_part_ms']:7.1f} ms  "
              f"{r['finalized_with_sha256']}/{r['recordings']} finalized with sha256" + (
                  f"  ERRORS {r['errors']}" if r["errors"] else ""))
    for name, ratio in result["throughput_ratio_2_vs_1_instances"].items():
        print(f"2 vs 1 instances ({name}): throughput x{ratio}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
