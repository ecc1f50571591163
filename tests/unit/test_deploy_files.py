"""deploy/: the compose file's services and the server config they share are what the deploy README says, and the
config is one the server accepts (its keys checked by the same loader as `snaplark-server --config`)."""

from pathlib import Path

import yaml

from snaplark_server.config import load_config_file

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def test_compose_topology_and_shared_config(caplog):
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]
    assert {"postgres", "minio", "migrate", "server1", "server2", "nginx"} <= set(services)
    for name in ("server1", "server2"):
        env = services[name]["environment"]
        assert env["SNAPLARK_DATABASE_URL"].startswith("postgresql://") and "serve" in services[name]["command"]
        assert "./server.toml:/etc/snaplark/server.toml:ro" in services[name]["volumes"]
    assert "db upgrade" in services["migrate"]["command"]
    nginx = (DEPLOY / "nginx.conf").read_text()
    assert "server server1:8765" in nginx and "server server2:8765" in nginx and "ip_hash" not in nginx
    config = load_config_file(DEPLOY / "server.toml",
                              database_url=services["server1"]["environment"]["SNAPLARK_DATABASE_URL"])
    assert config.storage == "s3" and config.s3_bucket == "snaplark" and config.database_url.startswith("postgresql")
    config.check_shared_storage()  # S3: several instances may serve it
    assert "unknown config key" not in caplog.text
