"""The command line as an operator uses it: topics create, run (stopped by SIGTERM), accounts show."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer

from tests.conftest import TopicReader
from ticket_enricher.config.settings import load_settings
from ticket_enricher.samples import generate
from ticket_enricher.samples.publish import publish_events

CLI = str(Path(sys.executable).with_name("ticket-enricher"))


def cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CLI, *args], capture_output=True, text=True, timeout=timeout, env=_env())


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "MEM0_"))} | {"COLUMNS": "200"}


def test_help_answers_the_first_questions() -> None:
    top = cli("--help")
    assert top.returncode == 0
    for command in ("run", "demo", "broker", "topics", "accounts", "sample"):
        assert command in top.stdout
    run = cli("run", "--help")
    assert "TICKET_ENRICHER_KAFKA__BOOTSTRAP_SERVERS" in run.stdout and "--memory" in run.stdout


def test_broker_status_of_an_unused_data_dir(tmp_path: Path) -> None:
    result = cli("broker", "status", "--data-dir", str(tmp_path / "none"))
    assert result.returncode == 3 and "not running" in result.stdout


def test_a_bad_setting_is_a_clear_error(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text("[topics]\npartitions = 0\n")
    result = cli("topics", "create", "--config", str(config), "-b", "127.0.0.1:1")
    assert result.returncode != 0
    assert "partitions" in result.stderr and "greater than or equal to 1" in result.stderr


@pytest.mark.kafka
async def test_topics_create_run_and_accounts_show(
    kafka_bootstrap: str, tmp_path: Path, producer: AIOKafkaProducer
) -> None:
    run_id = uuid.uuid4().hex[:8]
    config = tmp_path / "worker.toml"
    config.write_text(
        f'[kafka]\ngroup_id = "cli-{run_id}"\n'
        f'[topics]\ntickets = "t-{run_id}"\nenriched = "e-{run_id}"\ndlq = "d-{run_id}"\n'
        f'deletion_requests = "f-{run_id}"\ndeletion_completed = "fc-{run_id}"\n'
    )
    settings = load_settings(config, kafka={"bootstrap_servers": kafka_bootstrap})

    created = cli("topics", "create", "-c", str(config), "-b", kafka_bootstrap)
    assert created.returncode == 0, created.stderr
    # 2 inputs, 2 outputs, 2 dead-letter topics, 3 delay tiers for each of the two flows
    assert created.stdout.count("created") == len(settings.topic_names()) == 12
    again = cli("topics", "create", "-c", str(config), "-b", kafka_bootstrap)
    assert again.returncode == 0 and again.stdout.count("exists") == 12

    stream = generate(seed=41, accounts=6)
    await publish_events(producer, settings.topics.tickets, stream.events)

    memory = tmp_path / "memory.db"
    worker = subprocess.Popen([CLI, "run", "-c", str(config), "-b", kafka_bootstrap, "-m", str(memory),
                               "--http-port", "0"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env())
    try:
        reader = TopicReader(kafka_bootstrap, settings)
        records = await reader.read(settings.topics.enriched, until=lambda r: len(r) >= len(stream.events))
        assert len(records) == len(stream.events)
    finally:
        worker.send_signal(signal.SIGTERM)
        _, err = worker.communicate(timeout=60)
    assert worker.returncode == 0, err
    assert "worker stopped" in err

    for account, expected in stream.truth.items():
        shown = cli("accounts", "show", account, "--json", "-m", str(memory))
        assert shown.returncode == 0, shown.stderr
        report = json.loads(shown.stdout)
        assert stream.graded(report["tags"]) == expected
        assert report["events"] == sum(1 for e in stream.events if e.account_id == account)
    human = cli("accounts", "show", stream.accounts[0], "-m", str(memory))
    assert human.returncode == 0 and stream.accounts[0] in human.stdout
    missing = cli("accounts", "show", "no-such-account", "-m", str(memory))
    assert missing.returncode == 1 and "no memories" in missing.stderr


@pytest.mark.kafka
async def test_run_without_topics_says_how_to_create_them(kafka_bootstrap: str, tmp_path: Path) -> None:
    from ticket_enricher.consumers.worker import Worker
    from ticket_enricher.core.errors import MissingTopics

    settings = load_settings(kafka={"bootstrap_servers": kafka_bootstrap},
                             topics={"tickets": f"nothing-{uuid.uuid4().hex[:6]}"}, memory={"path": tmp_path / "m"})
    worker = Worker(settings)
    with pytest.raises(MissingTopics, match="ticket-enricher topics create"):
        await worker.start()
    await worker.stop()
