"""What an operator sees of a running worker, on the real broker: /metrics moving with the stream, consumer lag
falling to zero, /healthz and /readyz, JSON logs with identifiers and without ticket text, `status`."""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import TopicReader, command_env
from ticket_enricher.config.settings import Settings
from ticket_enricher.core.events import Ticket, TicketEvent
from ticket_enricher.samples.publish import publish_events
from ticket_enricher.testing.openai_server import FakeOpenAI

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(180)]
CLI = str(Path(sys.executable).with_name("ticket-enricher"))
BODY = "Our dashboard has been down since Monday and nobody answers."


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get(port: int, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()
    except OSError:
        return 0, ""


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(metrics: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str) -> float:
    return sum(v for (n, ls), v in metrics.items() if n == name and set(labels.items()) <= set(ls))


def env_for(settings: Settings, model_url: str, port: int) -> dict[str, str]:
    return command_env(settings, model_url, **{
        "WORKER__MAX_IN_FLIGHT": "4", "OPS__HTTP_PORT": str(port), "OPS__LAG_INTERVAL_SECONDS": "0.3",
        "OPS__LOG_FORMAT": "json"})


async def test_metrics_move_lag_drains_and_probes_answer(
    kafka_settings: Settings, producer: AIOKafkaProducer, reader: TopicReader, slow_model: FakeOpenAI,
) -> None:
    events = [TicketEvent(event_id=f"ev-{i}", type="ticket.created", occurred_at=datetime(2026, 11, 20, 10, tzinfo=UTC),
                          account_id=f"acct-{i % 10}",
                          ticket=Ticket(id=f"t-{i}", subject="Dashboard down", body=BODY, priority="high",
                                        channel="email"))
              for i in range(120)]
    await publish_events(producer, kafka_settings.topics.tickets, events)
    port = free_port()
    log_file = Path(kafka_settings.memory.path).with_name("worker.log")
    with log_file.open("w") as err:
        proc = subprocess.Popen([CLI, "run", "--log-level", "INFO"], env=env_for(kafka_settings, slow_model.url, port),
                                stdout=subprocess.DEVNULL, stderr=err, text=True)
    group, topic = kafka_settings.kafka.group_id, kafka_settings.topics.tickets
    processed_seen: list[float] = []
    lag_seen: list[float] = []
    ready_seen: list[int] = []
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 90
        while get(port, "/healthz")[0] != 200:
            assert proc.poll() is None and loop.time() < deadline, "the worker never served /healthz"
            await asyncio.sleep(0.2)
        while True:
            assert loop.time() < deadline, f"lag never reached 0: {lag_seen[-5:]}"
            status, text = get(port, "/metrics")
            assert status == 200
            now = samples(text)
            processed_seen.append(value(now, "ticket_enricher_events_processed_total"))
            lag_seen.append(value(now, "ticket_enricher_consumer_lag", group=group, topic=topic))
            ready_seen.append(get(port, "/readyz")[0])
            if processed_seen[-1] == len(events) and lag_seen[-1] == 0 and ("ticket_enricher_consumer_lag", (
                    ("group", group), ("partition", "0"), ("topic", topic))) in now:
                break
            await asyncio.sleep(0.2)
        final = now
        status_json = subprocess.run([CLI, "status", "--json"], env=env_for(kafka_settings, slow_model.url, 0),
                                     capture_output=True, text=True, timeout=60)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
    logs = log_file.read_text()
    assert proc.returncode == 0, logs[-2000:]

    # the counters moved while events flowed, and lag fell to zero once the stream was drained
    assert len({v for v in processed_seen if 0 < v < len(events)}) >= 2, processed_seen
    assert max(lag_seen) > 0 and lag_seen[-1] == 0, lag_seen
    assert 200 in ready_seen
    assert value(final, "ticket_enricher_model_call_seconds_count", planner="fake-model") >= 4 * len(events)
    assert value(final, "ticket_enricher_memory_call_seconds_count", operation="add") >= len(events)
    assert value(final, "ticket_enricher_tags_changed_total", tag="outage_affected", change="set") == 10
    assert (await reader.settle(kafka_settings.topics.enriched, quiet=0.5)).__len__() == len(events)

    # JSON logs: one object a line; event lines carry the identifiers; no ticket text anywhere
    lines = [json.loads(line) for line in logs.splitlines() if line.strip()]
    enriched = [entry for entry in lines if entry["message"].startswith("enriched")]
    assert len(enriched) == len(events)
    assert all({"event_id", "account_id", "ticket_id", "partition", "offset"} <= set(e) for e in enriched)
    assert BODY not in logs and "Dashboard down" not in logs

    # `status` sees the group drained
    assert status_json.returncode == 0, status_json.stderr
    view = json.loads(status_json.stdout)
    tickets = next(g for g in view["groups"] if g["group"] == group)
    assert tickets["total_lag"] == 0 and {p["partition"] for p in tickets["lag"]} == {0, 1, 2}
    assert view["dlq_depth"] == 0


async def test_readiness_is_503_until_partitions_are_assigned_and_a_taken_port_is_a_clear_error(
    kafka_settings: Settings, slow_model: FakeOpenAI,
) -> None:
    with socket.socket() as taken:
        taken.bind(("0.0.0.0", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run([CLI, "run"], env=env_for(kafka_settings, slow_model.url, port),
                                capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert f"cannot serve the HTTP endpoints on 0.0.0.0:{port}" in result.stderr
