"""A failing model does not burn the stream: a `run` member whose model answers 503 to every call opens its
breaker, holds model work (nothing dead-lettered, only probes reach the model), says so on /readyz, in its metrics
and in `status`, and once the model answers again every event comes out."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer

from tests.conftest import TopicReader, command_env
from tests.test_operations_kafka import free_port, get, samples, value
from ticket_enricher.config.settings import Settings
from ticket_enricher.samples import generate
from ticket_enricher.samples.publish import publish_events
from ticket_enricher.testing.openai_server import FakeOpenAI, brief

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(240)]
CLI = str(Path(sys.executable).with_name("ticket-enricher"))


async def until(check, timeout: float, what: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        assert loop.time() < deadline, what
        await asyncio.sleep(0.3)


async def test_a_down_model_pauses_model_work_says_so_and_loses_nothing(
    kafka_settings: Settings, producer: AIOKafkaProducer, reader: TopicReader
) -> None:
    llm = FakeOpenAI().start()
    llm.script = brief
    llm.fail_next(100_000, 503, body={"error": {"message": "overloaded"}})
    port = free_port()
    env = command_env(kafka_settings, llm.url, **{
        "OPS__HTTP_PORT": str(port), "OPS__LAG_INTERVAL_SECONDS": "0.5",
        "MODEL__BREAKER_FAILURES": "3", "MODEL__BREAKER_PROBE_SECONDS": "1", "MODEL__BREAKER_MAX_PROBE_SECONDS": "2"})
    events = generate(seed=71, accounts=5).events[:20]
    await publish_events(producer, kafka_settings.topics.tickets, events)
    log = Path(kafka_settings.memory.path).with_name("worker.log")
    with log.open("w") as err:
        worker = subprocess.Popen([CLI, "run"], env=env, stdout=subprocess.DEVNULL, stderr=err, text=True)
    try:
        await until(lambda: "model unavailable" in get(port, "/readyz")[1], 90, "/readyz never said the model is down")
        assert get(port, "/readyz")[0] == 503
        assert value(samples(get(port, "/metrics")[1]), "ticket_enricher_model_breaker_open") == 1
        shown = subprocess.run([CLI, "status", "--json"], env=env | {"TICKET_ENRICHER_OPS__HTTP_PORT": "0"},
                               capture_output=True, text=True, timeout=60)
        assert shown.returncode == 0, shown.stderr
        assert [h["state"] for h in json.loads(shown.stdout)["model"]] == ["open"], shown.stdout
        calls = len(llm.chat_bodies())
        await asyncio.sleep(4)
        assert len(llm.chat_bodies()) - calls <= 4, "more than the probes reached a model that is down"
        assert await reader.read(kafka_settings.topics.dlq, until=lambda r: False, timeout=1.0) == []

        llm.clear_failures()  # the model answers again
        out = await reader.read(kafka_settings.topics.enriched, until=lambda r: len(r) >= len(events), timeout=120)
        assert {json.loads(r.value)["event_id"] for r in out} == {e.event_id for e in events}
        await until(lambda: get(port, "/readyz")[0] == 200, 30, "/readyz stayed 503 after the model came back")
        assert value(samples(get(port, "/metrics")[1]), "ticket_enricher_model_breaker_open") == 0
        assert await reader.read(kafka_settings.topics.dlq, until=lambda r: False, timeout=1.0) == [], \
            "an event was dead-lettered for the model's outage"
        shown = subprocess.run([CLI, "status", "--json"], env=env | {"TICKET_ENRICHER_OPS__HTTP_PORT": "0"},
                               capture_output=True, text=True, timeout=60)
        assert [h["state"] for h in json.loads(shown.stdout)["model"]] == ["closed"], shown.stdout
        assert worker.poll() is None
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=60)
        llm.stop()
    assert worker.returncode == 0, log.read_text()[-3000:]
