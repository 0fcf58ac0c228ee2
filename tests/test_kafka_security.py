"""Kafka security on a real broker: a second local KRaft node with a SASL_PLAINTEXT listener whose SCRAM user
is stored at format time. The worker and the other commands connect with the right secret and fail clearly
with a wrong or missing one. The password is random per run and reaches the commands only through the
environment (KAFKA_SASL_PASSWORD), as in production."""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from tests.conftest import enriched, publish_over
from ticket_enricher.config.settings import Settings, load_settings
from ticket_enricher.localkafka import LocalBroker
from ticket_enricher.samples import generate

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(240)]
CLI = str(Path(sys.executable).with_name("ticket-enricher"))
MECHANISM, USER = "SCRAM-SHA-512", "svc-enricher"


@pytest.fixture(scope="module")
def scram_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalBroker, str]]:
    password = secrets.token_urlsafe(18)
    broker = LocalBroker(tmp_path_factory.mktemp("scram"), heap="512m", scram=(MECHANISM, {USER: password}))
    broker.start(say=lambda message: None)
    try:
        yield broker, password
    finally:
        broker.stop()


@pytest.fixture
def secure(scram_broker: tuple[LocalBroker, str], tmp_path: Path) -> tuple[Settings, dict[str, str]]:
    broker, password = scram_broker
    run = uuid.uuid4().hex[:8]
    overrides = {
        "KAFKA__BOOTSTRAP_SERVERS": broker.sasl_bootstrap, "KAFKA__SECURITY_PROTOCOL": "SASL_PLAINTEXT",
        "KAFKA__SASL_MECHANISM": MECHANISM, "KAFKA__SASL_USERNAME": USER, "KAFKA__GROUP_ID": f"g-{run}",
        "TOPICS__TICKETS": f"t-{run}", "TOPICS__ENRICHED": f"e-{run}", "TOPICS__DLQ": f"d-{run}",
        "TOPICS__DELETION_REQUESTS": f"f-{run}", "TOPICS__DELETION_COMPLETED": f"fc-{run}",
        "MEMORY__PATH": str(tmp_path / "memory.db"), "OPS__HTTP_PORT": "0",
    }
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "MEM0_", "TICKET_", "KAFKA_"))}
    env |= {f"TICKET_ENRICHER_{k}": v for k, v in overrides.items()} | {"KAFKA_SASL_PASSWORD": password}
    settings = load_settings(
        kafka={"bootstrap_servers": broker.sasl_bootstrap, "security_protocol": "SASL_PLAINTEXT",
               "sasl_mechanism": MECHANISM, "sasl_username": USER, "group_id": f"g-{run}"},
        topics={"tickets": f"t-{run}", "enriched": f"e-{run}", "dlq": f"d-{run}",
                "deletion_requests": f"f-{run}", "deletion_completed": f"fc-{run}"},
    ).model_copy(update={"kafka_sasl_password": SecretStr(password)})
    return settings, env


def cli(env: dict[str, str], *args: str, timeout: float = 90) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CLI, *args], env=env, capture_output=True, text=True, timeout=timeout)


async def test_every_command_connects_with_the_right_secret(secure: tuple[Settings, dict[str, str]]) -> None:
    settings, env = secure
    created = cli(env, "topics", "create")
    assert created.returncode == 0 and created.stdout.count("created") == len(settings.topic_names()), created.stderr
    stream = generate(seed=5, accounts=4)
    await publish_over(settings, stream.events)
    worker = subprocess.Popen([CLI, "run", "--log-level", "WARNING"], env=env, stderr=subprocess.PIPE, text=True,
                              stdout=subprocess.DEVNULL)
    try:
        assert await enriched(settings, len(stream.events)) == len(stream.events)
        status = cli(env, "status", "--json")
        assert status.returncode == 0, status.stderr
        group = next(g for g in json.loads(status.stdout)["groups"] if g["group"] == settings.kafka.group_id)
        assert len(group["members"]) == 1 and group["total_lag"] == 0
        assert cli(env, "dlq", "list", "--json").returncode == 0
        replay = cli(env, "replay", "--since", "1h", "--dry-run")
        assert replay.returncode == 0 and f"{len(stream.events)} events" in replay.stderr, replay.stderr
    finally:
        worker.send_signal(signal.SIGTERM)
        _, err = worker.communicate(timeout=60)
    assert worker.returncode == 0, err[-2000:]
    assert env["KAFKA_SASL_PASSWORD"] not in err


def test_a_wrong_secret_fails_clearly(secure: tuple[Settings, dict[str, str]]) -> None:
    _, env = secure
    result = cli({**env, "KAFKA_SASL_PASSWORD": "not-the-password"}, "run", timeout=120)
    assert result.returncode != 0
    assert "Authentication failed" in result.stderr and "invalid credentials" in result.stderr, result.stderr[-1500:]
    assert "KAFKA_SASL_PASSWORD" in result.stderr  # the hint names where the secret comes from
    assert "Traceback" not in result.stderr


def test_a_missing_secret_is_named(secure: tuple[Settings, dict[str, str]]) -> None:
    _, env = secure
    result = cli({k: v for k, v in env.items() if k != "KAFKA_SASL_PASSWORD"}, "status")
    assert result.returncode == 2
    assert "KAFKA_SASL_PASSWORD is not set" in result.stderr and "Traceback" not in result.stderr
