"""The cascade on the real broker (`model.mode = "cascade"`): the rules judge every event, the model only the
sampled ones; a 429 on an escalated event goes to a delay tier and comes back without paying again for what was
answered; every event is enriched once, names the stage that judged it last, and has one note."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer

from tests.conftest import TopicReader, outputs_by_event
from ticket_enricher.agents.notes import NOTE_KIND, account_filter
from ticket_enricher.agents.planners.cascade import sampled
from ticket_enricher.config.settings import Settings, load_settings
from ticket_enricher.consumers.operations.topics import create_topics
from ticket_enricher.consumers.worker import Worker
from ticket_enricher.memory.sqlite import SqliteMemoryStore
from ticket_enricher.memory.store import list_all
from ticket_enricher.samples import generate
from ticket_enricher.samples.publish import publish_events
from ticket_enricher.testing.openai_server import FakeOpenAI, ticket_of

pytestmark = pytest.mark.kafka
SAMPLE = 0.5


async def test_the_model_sees_only_escalated_events_and_a_429_is_waited_out_once(
    kafka_settings: Settings, producer: AIOKafkaProducer, reader: TopicReader, llm: FakeOpenAI
) -> None:
    settings = load_settings(
        kafka=kafka_settings.kafka.model_dump(), topics=kafka_settings.topics.model_dump(),
        memory=kafka_settings.memory.model_dump(), model={"name": "fake-llm", "base_url": llm.url + "/v1",
                                                          "mode": "cascade"},
        cascade={"threshold": 0.0, "thresholds": {"outage_affected": 0.0}, "sample": SAMPLE},
        retry={"tiers_seconds": [1, 2], "max_attempts": 3},
    )
    await create_topics(settings)
    stream = generate(seed=53, accounts=4)
    escalated = {e.event_id for e in stream.events if sampled(e.event_id, SAMPLE)}
    assert 0 < len(escalated) < len(stream.events)
    tickets = {(e.ticket.id, e.occurred_at.isoformat()): e.event_id for e in stream.events}
    first = next(e for e in stream.events if e.event_id in escalated)
    refused: list[str] = []
    calls: Counter[str] = Counter()
    lock = threading.Lock()

    def refuse(body: dict[str, Any]) -> dict[str, str] | None:
        data = ticket_of(body)
        event_id = tickets[(data["ticket_id"], data["occurred_at"])]
        with lock:
            if event_id == first.event_id and not refused and len(body["messages"]) > 2:
                refused.append(event_id)  # its second turn: the first was answered and recorded
                return {"Retry-After": "1"}
            calls[event_id] += 1
        return None

    llm.refuse = refuse
    await publish_events(producer, settings.topics.tickets, stream.events)
    async with Worker(settings):
        records = await reader.read(settings.topics.enriched, until=lambda r: len(r) >= len(stream.events))
        await reader.settle(settings.topics.enriched, quiet=1.0)
    outputs = outputs_by_event(records)
    assert set(outputs) == {e.event_id for e in stream.events}
    assert all(len(v) == 1 for v in outputs.values()), "each event enriched once"
    assert {e for e, (out,) in outputs.items() if out["planner"] == "fake-llm"} == escalated
    assert {e for e, (out,) in outputs.items() if out["planner"] == "rules"} == set(outputs) - escalated
    assert set(calls) == escalated, "no model call for an event the rules were sure of"
    assert refused == [first.event_id]
    assert all(n == 4 for n in calls.values()), "diligent: four turns each, the answered one never paid again"
    store = SqliteMemoryStore(settings.memory.path)
    try:
        for account in {e.account_id for e in stream.events}:
            notes = await list_all(store, filters=account_filter(account, NOTE_KIND))
            ids = [str(n.metadata.get("event_id")) for n in notes]
            assert sorted(ids) == sorted(e.event_id for e in stream.events if e.account_id == account)
    finally:
        await store.close()
