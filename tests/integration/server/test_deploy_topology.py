"""The paper deployment (deploy/compose.yaml, server.toml, nginx.conf, README.md; issue 17) cannot rot: what it
runs exists and is valid -- every ``snaplark-server`` command parses with the real CLI and gives a config the server
accepts (no unknown key), the package it pip-installs exists with the extras it names and pulls in only what the
server imports (a slim Python image has no compiler for the desktop app's GTK/input bindings), nginx.conf passes the
real ``nginx -t``, and the names and ports agree between compose, nginx, server.toml, the health checks and the
README. tests/integration/server/test_deploy_run.py runs the same topology."""

from __future__ import annotations

import ast
import importlib.metadata as md
import logging
import subprocess
import sys
import tomllib

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from snaplark_server.cli import _config, build_parser
from snaplark_server.databases import DATABASE_URL_ENV
from tests.deploy_topology import REPO, Deploy, host_port, mapped
from tests.nginx import nginx_config
from tests.procutil import need_tool

MINIO_API_PORT = 9000  # `minio server /data` without --address


@pytest.fixture(scope="module")
def deploy() -> Deploy:
    return Deploy.load()


def parse(argv: list[str], what: str):
    try:
        return build_parser().parse_args(argv)
    except SystemExit:
        pytest.fail(f"{what}: `snaplark-server {' '.join(argv)}` is not a valid command")


def service_config(deploy: Deploy, service: str, argv: list[str], monkeypatch, caplog):
    """The config the service's ``snaplark-server`` step would run with: its environment, its mounted files."""
    for key, value in deploy.environment(service).items():
        monkeypatch.setenv(key, value)
    mapped_argv = [str(deploy.host_path(service, a) or a) if a.startswith("/etc/") else a for a in argv]
    args = parse(mapped_argv, service)
    assert args.config is None or args.config.is_file(), f"{service}: {argv} names a file it does not mount"
    with caplog.at_level(logging.WARNING, logger="snaplark_server.config"):
        config = _config(args)
    assert "unknown config key" not in caplog.text, caplog.text
    return args, config


def test_every_server_command_parses_and_loads_a_valid_config(deploy, monkeypatch, caplog):
    steps = [(name, argv) for name in deploy.services if "command" in deploy.services[name]
             for argv in deploy.server_steps(name)]
    assert {argv[-1] if argv[-1] == "upgrade" else "serve" for _, argv in steps} == {"upgrade", "serve"}
    for name, argv in steps:
        args, config = service_config(deploy, name, argv, monkeypatch, caplog)
        assert config.database_url == deploy.environment(name)[DATABASE_URL_ENV]  # the env var the CLI reads
        if args.command == "serve":
            config.check_shared_storage()
            assert config.host == "0.0.0.0", "a container must listen on its network address"
    (serve,) = [parse(argv, name) for name, argv in steps if "serve" in argv][:1]
    for argv in deploy.documented_server_commands():
        args = parse(argv, "README/compose comment")
        if args.command in ("user", "token", "usage"):  # its audit entries go to the instance's data dir
            assert args.data_dir == serve.data_dir, f"`snaplark-server {' '.join(argv)}`: not --data-dir {serve.data_dir}"


def test_pip_installs_a_package_with_the_server_and_only_what_it_imports(deploy):
    """``pip install '/src[postgres,s3]'`` installed the desktop app: PyGObject and evdev have no wheels, so it fails
    in python:3.11-slim (no compiler, no GTK headers)."""
    targets = [step for name in deploy.services if "command" in deploy.services[name]
               for step in deploy.commands(name) if step[:2] == ["pip", "install"]]
    assert targets
    for step in targets:
        spec = step[-1]
        path, _, extras = spec.partition("[")
        project = tomllib.loads((deploy.host_path("server1", path) / "pyproject.toml").read_text())["project"]
        assert project["scripts"]["snaplark-server"] == "snaplark_server.cli:main"
        wanted = [e.strip() for e in extras.rstrip("]").split(",") if e.strip()]
        assert set(wanted) <= set(project.get("optional-dependencies", {})), (spec, wanted)
        declared = project["dependencies"] + [r for e in wanted for r in project["optional-dependencies"][e]]
        names = {canonicalize_name(Requirement(r).name) for r in declared}
        imported = server_import_distributions()
        assert names - imported <= {"httptools"}, f"{spec} installs what the server never imports: {names - imported}"
        covered = set(names)
        for name in names:
            covered |= requirement_closure(name)
        assert imported <= covered, f"{spec} misses what the server imports: {imported - covered}"


def server_import_distributions() -> set[str]:
    """The distributions (canonical names) of every third-party module server/snaplark_server imports."""
    modules = set()
    for py in (REPO / "server" / "snaplark_server").rglob("*.py"):
        for node in ast.walk(ast.parse(py.read_text())):
            if isinstance(node, ast.Import):
                modules |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules.add(node.module.split(".")[0])
    modules -= set(sys.stdlib_module_names) | {"snaplark_server"}
    dists = md.packages_distributions()
    missing = sorted(m for m in modules if m not in dists)
    assert not missing, f"imported by the server but not installed here: {missing}"
    return {canonicalize_name(d) for m in modules for d in dists[m]}


def requirement_closure(name: str, seen: set[str] | None = None) -> set[str]:
    """``name`` and what it requires (installed metadata, no extras), recursively."""
    seen = set() if seen is None else seen
    if name in seen:
        return seen
    seen.add(name)
    try:
        requires = md.requires(name) or []
    except md.PackageNotFoundError:
        return seen
    for text in requires:
        req = Requirement(text)
        if req.marker is None or req.marker.evaluate({"extra": ""}):
            requirement_closure(canonicalize_name(req.name), seen)
    return seen


def test_names_and_ports_agree_between_compose_nginx_server_toml_and_readme(deploy, monkeypatch, caplog):
    serving = deploy.serving()
    assert len(serving) >= 2
    ports, data_volumes = set(), set()
    for name in serving:
        (argv,) = [a for a in deploy.server_steps(name) if "serve" in a]
        args, config = service_config(deploy, name, argv, monkeypatch, caplog)
        ports.add(config.port)
        named = {v.split(":")[1]: v.split(":")[0] for v in deploy.services[name]["volumes"] if v[0] not in "./"}
        assert str(config.data_dir) in named, f"{name}: its audit log would go with the container"
        data_volumes.add(named[str(config.data_dir)])
        assert named[str(config.data_dir)] in deploy.compose["volumes"]
        hc_host, hc_port = host_port(deploy.healthcheck_url(name))
        assert (hc_host, hc_port) == ("127.0.0.1", config.port) and "/health?deep=1" in deploy.healthcheck_url(name)
    (port,) = ports
    assert len(data_volumes) == len(serving)  # a data dir each (not shared_data_dir)
    assert sorted(deploy.upstreams()) == sorted(f"{name}:{port}" for name in serving)
    nginx = deploy.services["nginx"]
    assert any(v.endswith(":/etc/nginx/conf.d/default.conf:ro") for v in nginx["volumes"])  # inside http {}
    published = deploy.published("nginx")[deploy.nginx_listen()]
    assert host_port(config.site_url) == ("localhost", published)
    assert f"snaplark login --server {config.site_url}/api/v1" in deploy.readme
    db = config.database_url
    pg = deploy.environment("postgres")
    from psycopg.conninfo import conninfo_to_dict

    info = conninfo_to_dict(db)
    assert info["host"] in deploy.services and "postgres" in deploy.services[info["host"]]["image"]
    assert (info["user"], info["password"], info["dbname"]) == (pg["POSTGRES_USER"], pg["POSTGRES_PASSWORD"],
                                                                pg["POSTGRES_DB"])
    s3_host, s3_port = host_port(config.s3_endpoint_url)
    minio = deploy.services[s3_host]
    assert "minio" in minio["image"] and s3_port == MINIO_API_PORT and "--address" not in minio["command"]
    env, root = deploy.environment(serving[0]), deploy.environment(s3_host)
    assert (env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]) == (root["MINIO_ROOT_USER"],
                                                                       root["MINIO_ROOT_PASSWORD"])
    # parts straight to S3 need an address clients reach; compose's MinIO is internal, so they stay off until set
    assert not config.direct_parts or config.s3_presign_endpoint_url
    for argv in deploy.documented_client_commands():
        from tray.cli import load_command

        import argparse

        parser = argparse.ArgumentParser(prog=f"snaplark {argv[0]}")
        load_command(argv[0]).configure(parser)
        parser.parse_args(argv[1:])


def test_postgres_settings_exist_in_the_real_postgres(deploy):
    from tests.postgres import need_postgres, postgres_bin

    argv = deploy.commands("postgres")[0]
    settings = [argv[i + 1].split("=")[0] for i, a in enumerate(argv) if a == "-c"]
    assert argv[0] == "postgres" and "tcp_keepalives_idle" in settings  # a dead machine's locks do not linger
    need_postgres()
    described = subprocess.run([postgres_bin("postgres"), "--describe-config"], capture_output=True, text=True,
                               timeout=30).stdout
    known = {line.split("\t")[0] for line in described.splitlines()}
    assert set(settings) <= known, set(settings) - known


def test_nginx_conf_passes_nginx_t(deploy, tmp_path):
    need_tool("nginx")
    names = {up: f"127.0.0.1:{10000 + i}" for i, up in enumerate(deploy.upstreams())}
    block = mapped(deploy.nginx, names).replace(f"listen {deploy.nginx_listen()};", "listen 127.0.0.1:10100;")
    conf = nginx_config(tmp_path, block)
    out = subprocess.run(["nginx", "-t", "-p", str(tmp_path), "-c", str(conf), "-e", str(tmp_path / "error.log")],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0 and "test is successful" in out.stderr, out.stderr
