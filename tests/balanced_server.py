"""The ``balanced`` server kind (tests/server_kinds.py): two reference server instances on one PostgreSQL database
and one shared data dir, behind a real nginx round-robin upstream (tests/nginx.py), no sticky sessions. The client
only ever sees the balancer's URL. Both instances share one set of fault rules (a rule fires ``count`` times,
whichever instance a request reaches) and the movable clock; ``restart`` restarts both instances behind the
running balancer."""

from __future__ import annotations

import contextlib
import time
from pathlib import Path

import requests

from tests.nginx import free_port, round_robin_block, running_nginx
from tests.server_kinds import ReferenceServer


class BalancedServer(ReferenceServer):
    def __init__(self, data_dir: Path, *, database_url: str, **kwargs) -> None:
        super().__init__(data_dir, database_url=database_url, **kwargs)
        self.second = None
        self.second_port = 0
        self.balancer_port = free_port()
        self._balancer: contextlib.ExitStack | None = None

    def start(self) -> "BalancedServer":
        from snaplark_server.runner import ServerThread

        super().start()
        config = self._config(port=self.second_port, fault_injection=True, session_idle_expiry=self.expiry,
                              cleanup_interval=3600.0)
        self.second = ServerThread(config, clock=self.clock).start()
        self.second_port = self.second.port
        self.second.faults.__dict__ = self.thread.faults.__dict__  # one injector state: rules, lock, fired count
        if self._balancer is None:
            self._balancer = contextlib.ExitStack()
            self._balancer.enter_context(running_nginx(self.data_dir.parent / "nginx", self._nginx_block(),
                                                       self._balancer_up))
        return self

    def _nginx_block(self) -> str:
        return round_robin_block([self.port, self.second_port], self.balancer_port, options="max_fails=0")

    def _balancer_up(self) -> bool:
        try:
            return requests.get(f"{self.url}/health", timeout=2).status_code == 200
        except requests.ConnectionError:
            return False

    def _stop_instances(self) -> None:
        if self.second is not None:
            self.second.stop(timeout=10)
            self.second = None
        super().stop()

    def stop(self) -> None:
        self._stop_instances()
        if self._balancer is not None:
            self._balancer.close()
            self._balancer = None

    def restart(self, down_for: float = 0.5) -> None:
        self._stop_instances()
        time.sleep(down_for)
        self.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.balancer_port}"
