"""No model turn is paid for twice on the real broker: a model that refuses the second call of every conversation
once (429) costs three calls per two-turn event (the turn, the refusal, the second turn), never four, every event
comes out once and none is dead-lettered."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer

from tests.conftest import TopicReader, outputs_by_event
from ticket_enricher.config.settings import Settings, load_settings
from ticket_enricher.consumers.operations.topics import create_topics
from ticket_enricher.consumers.worker import Worker
from ticket_enricher.samples import generate
from ticket_enricher.samples.publish import publish_events
from ticket_enricher.testing.openai_server import FakeOpenAI, brief, ticket_of

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(180)]


@pytest.fixture
def llm() -> Iterator[FakeOpenAI]:
    server = FakeOpenAI().start()
    server.script = brief
    yield server
    server.stop()


async def test_a_refused_second_call_costs_one_call_more_not_the_whole_conversation_again(
    kafka_settings: Settings, producer: AIOKafkaProducer, reader: TopicReader, llm: FakeOpenAI
) -> None:
    settings = load_settings(
        kafka=kafka_settings.kafka.model_dump(), topics=kafka_settings.topics.model_dump(),
        memory=kafka_settings.memory.model_dump(), model={"name": "fake-llm", "base_url": llm.url + "/v1"},
        retry={"tiers_seconds": [1, 2]}, ops={"http_port": 0})
    await create_topics(settings)
    refused: set[tuple[str, str]] = set()
    lock = threading.Lock()

    def refuse(body: dict[str, Any]) -> dict[str, str] | None:
        data = ticket_of(body)
        conversation = (data["ticket_id"], data["occurred_at"])
        with lock:
            if sum(m["role"] == "assistant" for m in body["messages"]) == 1 and conversation not in refused:
                refused.add(conversation)
                return {"Retry-After": "1"}
        return None

    llm.refuse = refuse
    events = generate(seed=61, accounts=8).events[:40]
    await publish_events(producer, settings.topics.tickets, events)
    async with Worker(settings):
        records = await reader.read(settings.topics.enriched, until=lambda r: len(r) >= len(events), timeout=120)
        await reader.settle(settings.topics.enriched, quiet=1.0)
    outputs = outputs_by_event(records)
    assert set(outputs) == {e.event_id for e in events} and all(len(v) == 1 for v in outputs.values())
    assert len(refused) == len(events)
    calls = len(llm.chat_bodies())
    print(f"{len(events)} two-turn events, each second call refused once: {calls} model calls "
          f"({calls / len(events):.2f} per event)")
    assert calls <= 3 * len(events), f"{calls} calls: a turn was paid for twice"
    assert all(v[0]["cost"]["replayed_turns"] == 1 for v in outputs.values())
    dead = await reader.read(settings.topics.dlq, until=lambda r: False, timeout=1.0)
    assert dead == [], "nothing is dead-lettered"
