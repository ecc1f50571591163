"""deploy/ (compose.yaml, server.toml, nginx.conf, README.md) read the way Docker Compose and the containers would
read them, for the tests that check the paper deployment and run it from apt packages and PyPI
(tests/integration/server/test_deploy_topology.py, test_deploy_run.py).

`Deploy.load()` parses compose.yaml with PyYAML (anchors and ``<<`` merges resolved as Compose does); `commands()`
yields the shell steps of a service's ``sh -c "a && b"`` command as argv lists; `host_path()` maps a container path
through the service's bind mounts to the file in this checkout; `mapped()` rewrites ``host:port`` names of the
compose network to the addresses the local stand-ins listen on.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parents[1]
DEPLOY = REPO / "deploy"
SERVER_CLI = "snaplark-server"


@dataclass
class Deploy:
    compose: dict
    nginx: str
    readme: str
    compose_text: str
    services: dict = field(init=False)

    def __post_init__(self) -> None:
        self.services = self.compose["services"]

    @classmethod
    def load(cls) -> "Deploy":
        import yaml

        text = (DEPLOY / "compose.yaml").read_text()
        return cls(yaml.safe_load(text), (DEPLOY / "nginx.conf").read_text(), (DEPLOY / "README.md").read_text(),
                   text)

    def commands(self, service: str) -> list[list[str]]:
        """The steps of the service's command: ``sh -c "pip install ... && snaplark-server ..."`` -> argv lists (a
        command that is not ``sh -c``: one step)."""
        command = self.services[service]["command"]
        argv = shlex.split(command) if isinstance(command, str) else list(command)
        if argv[:2] != ["sh", "-c"]:
            return [argv]
        return [shlex.split(step) for step in argv[2].split("&&")]

    def server_steps(self, service: str) -> list[list[str]]:
        """The ``snaplark-server`` invocations of the service (argv without the program name)."""
        return [step[1:] for step in self.commands(service) if step and step[0] == SERVER_CLI]

    def serving(self) -> list[str]:
        """The services that run ``snaplark-server ... serve``."""
        return [name for name in self.services if "command" in self.services[name]
                and any("serve" in step for step in self.server_steps(name))]

    def environment(self, service: str) -> dict[str, str]:
        env = self.services[service].get("environment", {})
        if isinstance(env, list):
            env = dict(item.split("=", 1) for item in env)
        return {k: str(v) for k, v in env.items()}

    def mounts(self, service: str) -> dict[str, Path]:
        """Container path -> path in this checkout, from the service's bind mounts (relative to deploy/)."""
        out = {}
        for volume in self.services[service].get("volumes", []):
            source, target = volume.split(":")[:2]
            if source.startswith((".", "/")):
                out[target] = (DEPLOY / source).resolve()
        return out

    def host_path(self, service: str, container_path: str) -> Path | None:
        """The checkout file or directory a container path of the service is, via its mounts; None if unmounted."""
        for target, source in sorted(self.mounts(service).items(), key=lambda kv: -len(kv[0])):
            if container_path == target or container_path.startswith(target.rstrip("/") + "/"):
                return source / container_path[len(target):].lstrip("/")
        return None

    def published(self, service: str) -> dict[int, int]:
        """container port -> host port of ``ports: ["8080:80"]``."""
        out = {}
        for spec in self.services[service].get("ports", []):
            host, _, container = str(spec).rpartition(":")
            out[int(container)] = int(host)
        return out

    def healthcheck_url(self, service: str) -> str:
        test = " ".join(self.services[service]["healthcheck"]["test"])
        found = re.search(r"https?://[^'\"\s]+", test)
        assert found, f"{service}: no URL in its health check {test!r}"
        return found.group(0)

    def upstreams(self) -> list[str]:
        """``host:port`` of each server line in nginx.conf's upstream block."""
        block = re.search(r"upstream\s+\w+\s*\{(.*?)\}", self.nginx, re.S)
        assert block, "nginx.conf: no upstream block"
        return re.findall(r"^\s*server\s+([\w.-]+:\d+)", block.group(1), re.M)

    def nginx_listen(self) -> int:
        return int(re.search(r"^\s*listen\s+(\d+)\s*;", self.nginx, re.M).group(1))

    def documented_server_commands(self) -> list[list[str]]:
        """Every ``snaplark-server ...`` command line the README and compose.yaml's comments show."""
        lines = [line.split("exec", 1)[-1].split() for line in self.compose_text.splitlines()
                 if line.lstrip().startswith("#") and f" {SERVER_CLI} " in line]
        lines = [words[words.index(SERVER_CLI) + 1:] for words in lines]
        spans = re.findall(rf"`({SERVER_CLI}[^`]*)`", self.readme)
        code = [line.strip() for line in self.readme.splitlines() if line.startswith("    ") and SERVER_CLI in line]
        for text in spans + code:
            words = shlex.split(text.split("#")[0])
            lines.append(words[words.index(SERVER_CLI) + 1:])
        return lines

    def documented_client_commands(self) -> list[list[str]]:
        """The ``snaplark ...`` (client) command lines of the README's code lines."""
        return [shlex.split(line.split("#")[0])[1:] for line in self.readme.splitlines()
                if line.startswith("    snaplark ")]


def host_port(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname, parts.port or {"http": 80, "https": 443}[parts.scheme]


def mapped(text: str, names: dict[str, str]) -> str:
    """``text`` with each ``host:port`` (or bare ``host`` key) of the compose network replaced by its stand-in."""
    for name in sorted(names, key=len, reverse=True):
        text = re.sub(rf"(?<![\w.-]){re.escape(name)}(?![\w.-]|:\d)", names[name], text)
    return text
