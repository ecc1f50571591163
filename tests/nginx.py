"""A real nginx (apt) for tests, run in the foreground from a private prefix dir: `running_nginx(prefix, block,
probe)` writes the config around ``block`` (what goes inside ``http {}``: upstreams and servers), starts nginx, waits
until ``probe()`` is true and stops it afterwards. Used by the README example test (TLS in front of one server) and
the load-balancer tests (round-robin over several instances)."""

from __future__ import annotations

import contextlib
import socket
import subprocess
from pathlib import Path
from typing import Callable, Iterator

from tests.procutil import die_with_parent, need_tool, stop_process, wait_until


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


UPSTREAM_LOG_FORMAT = "log_format upstreams '$request $status $upstream_addr';"


def round_robin_block(ports: list[int], listen: int, *, log: Path | None = None, options: str = "") -> str:
    """An ``http {}`` block balancing round-robin over the servers on 127.0.0.1:``ports`` (no sticky sessions),
    listening on 127.0.0.1:``listen``; bodies streamed through; ``log``: each request's upstream address(es) there
    (``$request $status $upstream_addr``); ``options``: appended to each upstream server line (``max_fails=0``)."""
    servers = " ".join(f"server 127.0.0.1:{port} {options};".replace(" ;", ";") for port in ports)
    logging = f"{UPSTREAM_LOG_FORMAT}\n" if log else ""
    access = f"access_log {log} upstreams;" if log else ""
    return f"""
    upstream snaplark {{ {servers} }}
    {logging}
    server {{
        listen 127.0.0.1:{listen};
        {access}
        client_max_body_size 200m;
        proxy_request_buffering off;
        location / {{
            proxy_pass http://snaplark;
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-Proto $scheme;
        }}
    }}"""


def nginx_config(prefix: Path, block: str) -> Path:
    """Write ``prefix``/nginx.conf: a foreground nginx with everything under ``prefix`` and ``block`` inside
    ``http {}`` (where an nginx image includes /etc/nginx/conf.d/*.conf); its path."""
    prefix.mkdir(parents=True, exist_ok=True)
    conf = prefix / "nginx.conf"
    conf.write_text(f"""daemon off;
user root;
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log {prefix}/access.log;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
{block}
}}
""")
    return conf


@contextlib.contextmanager
def running_nginx(prefix: Path, block: str, probe: Callable[[], bool], timeout: float = 20.0) -> Iterator[Path]:
    """nginx with ``block`` inside ``http {}``; yields the prefix (access.log, error.log are there)."""
    need_tool("nginx")
    conf = nginx_config(prefix, block)
    proc = subprocess.Popen(["nginx", "-p", str(prefix), "-c", str(conf), "-e", str(prefix / "error.log")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, preexec_fn=die_with_parent)

    def up() -> bool:
        if proc.poll() is not None:
            raise AssertionError(f"nginx exited: {proc.stderr.read().decode(errors='replace')}")
        return probe()

    try:
        wait_until(up, timeout, "nginx")
        yield prefix
    finally:
        stop_process(proc)
