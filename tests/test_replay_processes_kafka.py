"""`replay --processes K` on the real broker, through the CLI: each event once over K processes, one summary,
an interrupt resumes without duplicates, and K beyond the partitions with events is clamped."""

from __future__ import annotations

import json
import re
import signal
import sqlite3
import subprocess
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer

from tests.conftest import TopicReader, command_env
from tests.test_replay_kafka import CLI, T0, event, notes
from ticket_enricher.config.settings import Settings
from ticket_enricher.core.events import TicketEvent

pytestmark = pytest.mark.kafka
ACCOUNTS = 6  # two per partition: account a is published to partition a % 3


async def publish(producer: AIOKafkaProducer, settings: Settings, count: int) -> list[TicketEvent]:
    events = [event(i, accounts=ACCOUNTS) for i in range(count)]
    for e in events:
        account = int(e.account_id.removeprefix("acct-"))
        await producer.send(settings.topics.tickets, e.model_dump_json().encode(), key=e.account_id.encode(),
                            partition=account % settings.topics.partitions,
                            timestamp_ms=int(e.occurred_at.timestamp() * 1000))
    await producer.flush()
    return events


def summary(stderr: str) -> dict[str, int]:
    """The counts of the one summary line (`finished: processed 40, tags changed on 6, ...`)."""
    lines = [line for line in stderr.splitlines() if re.match(r"^(finished|interrupted|failed): ", line)]
    assert len(lines) == 1, stderr
    counts = dict(re.findall(r"([a-z][a-z -]*?) (\d+)", lines[0].split(": ", 1)[1]))
    return {k.strip(): int(v) for k, v in counts.items()}


def env_of(settings: Settings) -> dict[str, str]:
    return command_env(settings) | {"COLUMNS": "200"}  # rich wraps at 80 columns on a pipe


def written(path: Path) -> int:
    """How many notes the store holds so far (none before the replay has created it)."""
    if not path.exists():
        return 0
    try:
        return len(notes(path))
    except sqlite3.OperationalError:  # no schema yet
        return 0


async def enriched_counts(reader: TopicReader, settings: Settings) -> Counter[str]:
    return Counter(json.loads(r.value)["event_id"] for r in await reader.read_to_end(settings.topics.enriched))


async def test_two_processes_replay_each_event_once_with_one_summary(
    kafka_settings: Settings, producer: AIOKafkaProducer, reader: TopicReader
) -> None:
    events = await publish(producer, kafka_settings, 90)
    window = events[10:80]
    command = [CLI, "replay", "--since", (T0 + timedelta(minutes=10)).isoformat(),
               "--until", (T0 + timedelta(minutes=80)).isoformat(), "--processes", "2"]
    done = subprocess.run(command, env=env_of(kafka_settings), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "70 events in 3 partitions" in done.stderr and "2 replay processes" in done.stderr, done.stderr
    assert summary(done.stderr)["processed"] == 70, done.stderr
    assert notes(kafka_settings.memory.path) == Counter({e.event_id: 1 for e in window})
    assert await enriched_counts(reader, kafka_settings) == Counter({e.event_id: 1 for e in window})

    again = subprocess.run(command, env=env_of(kafka_settings), capture_output=True, text=True, timeout=60)
    assert again.returncode == 0 and "nothing to replay" in again.stderr, again.stderr


async def test_an_interrupted_two_process_replay_resumes_without_duplicates(
    kafka_settings: Settings, producer: AIOKafkaProducer, reader: TopicReader
) -> None:
    events = await publish(producer, kafka_settings, 90)
    env = env_of(kafka_settings)
    command = [CLI, "replay", "--since", T0.isoformat(), "--processes", "2"]
    proc = subprocess.Popen([*command, "--rate", "10"], env=env, stderr=subprocess.PIPE,
                            stdout=subprocess.DEVNULL, text=True)
    deadline = time.monotonic() + 60
    while written(kafka_settings.memory.path) < 10 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.2)  # until the children are well under way (their start-up takes a few seconds)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=90)
    assert proc.returncode == 130, err
    assert "rerun the same command to resume" in err, err
    first = summary(err)
    partial = notes(kafka_settings.memory.path)
    assert 0 < len(partial) < len(events), f"the interrupt came too late or too early to prove anything: {err}"
    assert set(partial.values()) == {1}

    # resumed with another K: the group's commits say where each partition goes on, whoever read it before
    done = subprocess.run([*command[:-1], "3"], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "resuming" in done.stderr, done.stderr
    planned = int(re.search(r"(\d+) events in 3 partitions", done.stderr).group(1))  # type: ignore[union-attr]
    second = summary(done.stderr)
    assert second.get("processed", 0) + second.get("skipped as already done", 0) == planned, done.stderr
    assert first.get("processed", 0) + planned >= len(events), (err, done.stderr)
    assert notes(kafka_settings.memory.path) == Counter({e.event_id: 1 for e in events})
    enriched = await enriched_counts(reader, kafka_settings)
    assert set(enriched) == {e.event_id for e in events}
    assert sum(enriched.values()) - len(events) <= 8, "more events re-run than were in flight at the interrupt"


async def test_more_processes_than_partitions_with_events_are_clamped(
    kafka_settings: Settings, producer: AIOKafkaProducer
) -> None:
    await publish(producer, kafka_settings, 30)
    command = [CLI, "replay", "--since", T0.isoformat(), "--processes", "8", "--dry-run"]
    dry = subprocess.run(command, env=env_of(kafka_settings), capture_output=True, text=True, timeout=120)
    assert dry.returncode == 0, dry.stderr
    assert "--processes 8: only 3 partitions have events to replay, so 3 processes" in dry.stderr, dry.stderr
    assert "3 replay processes" in dry.stderr, dry.stderr
    assert summary(dry.stderr) == {"would process": 30}, dry.stderr
    assert notes(kafka_settings.memory.path) == Counter(), "a dry run wrote"

    # --accounts with processes: the window's two events sit on two partitions, so two processes
    only = subprocess.run([*command[:-1], "--accounts", "acct-1", "--until",
                           (T0 + timedelta(minutes=2)).isoformat()],
                          env=env_of(kafka_settings), capture_output=True, text=True, timeout=120)
    assert only.returncode == 0, only.stderr
    assert "only 2 partitions have events to replay, so 2 processes" in only.stderr, only.stderr
    counts = summary(only.stderr)
    assert counts["processed"] == 1 and counts["outside --accounts"] == 1, only.stderr


async def test_a_failing_process_fails_the_replay(kafka_settings: Settings, producer: AIOKafkaProducer) -> None:
    await publish(producer, kafka_settings, 12)
    kafka_settings.memory.path.write_bytes(b"not a database, " * 512)  # every child fails to open the store
    command = [CLI, "replay", "--since", T0.isoformat(), "--processes", "2"]
    failed = subprocess.run(command, env=env_of(kafka_settings), capture_output=True, text=True, timeout=120)
    assert failed.returncode == 1, failed.stderr
    assert "failed: " in failed.stderr and "error: replay process" in failed.stderr, failed.stderr
