"""docker-compose.yml and the Dockerfile agree with config/defaults.toml and the packaging."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

from config.settings import load_settings

ROOT = Path(__file__).resolve().parents[1]


def compose() -> dict:  # type: ignore[type-arg]
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_worker_service_scales() -> None:
    worker = compose()["services"]["worker"]
    assert "container_name" not in worker and "ports" not in worker


def test_compose_names_the_configured_group_and_a_real_listener() -> None:
    services = compose()["services"]
    defaults = load_settings()
    kafka_env = services["kafka"]["environment"]
    listeners = kafka_env["KAFKA_ADVERTISED_LISTENERS"]
    for name in ("topics", "worker", "sample"):
        bootstrap = services[name]["environment"]["TICKET_ENRICHER_KAFKA__BOOTSTRAP_SERVERS"]
        assert f"PLAINTEXT://{bootstrap}" in listeners.split(",")
    assert services["worker"]["environment"]["TICKET_ENRICHER_KAFKA__GROUP_ID"] == defaults.kafka.group_id
    assert int(kafka_env["KAFKA_NUM_PARTITIONS"]) == defaults.topics.partitions
    assert kafka_env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"  # topics come from `topics create`
    assert services["topics"]["command"] == ["topics", "create"]


def test_compose_broker_version_matches_the_local_broker() -> None:
    from localkafka.broker import KAFKA_VERSION

    image = compose()["services"]["kafka"]["image"]
    assert image == f"apache/kafka:{KAFKA_VERSION}"
    pom = (ROOT / "localkafka" / "pom.xml").read_text()
    assert f"<kafka.version>{KAFKA_VERSION}</kafka.version>" in pom


def test_dockerfile_copies_every_package_and_runs_as_non_root() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    packages = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    for package in packages:
        assert re.search(rf"^COPY {package} {package}$", dockerfile, re.M), package
    user = re.findall(r"^USER (\S+)$", dockerfile, re.M)
    assert user and user[-1] not in {"root", "0"}
