"""Redelivered events (the same event_ids again, e.g. after a crash) add no memory and no tag."""

from __future__ import annotations

import pytest
from aiokafka import AIOKafkaProducer

from tests.conftest import TopicReader, outputs_by_event
from ticket_enricher.agents.notes import read_account_tags
from ticket_enricher.config.settings import Settings
from ticket_enricher.consumers.worker import Worker
from ticket_enricher.memory.sqlite import SqliteMemoryStore
from ticket_enricher.samples import generate
from ticket_enricher.samples.publish import publish_events

pytestmark = pytest.mark.kafka


async def test_redelivery_adds_no_memory_and_no_tag(
    kafka_settings: Settings, producer: AIOKafkaProducer, reader: TopicReader
) -> None:
    stream = generate(seed=21, accounts=10)
    n = len(stream.events)

    async def publish_all() -> None:
        await publish_events(producer, kafka_settings.topics.tickets, stream.events)

    await publish_all()
    async with Worker(kafka_settings) as worker:
        await reader.read(kafka_settings.topics.enriched, until=lambda r: len(r) >= n)
        store = worker.store
        assert isinstance(store, SqliteMemoryStore)
        memories = await store.count()
        tags = {a: (await read_account_tags(store, a))[1] for a in stream.truth}

        await publish_all()
        records = await reader.read(kafka_settings.topics.enriched, until=lambda r: len(r) >= 2 * n)
        assert len(records) == 2 * n

        assert await store.count() == memories
        assert {a: (await read_account_tags(store, a))[1] for a in stream.truth} == tags

    outputs = outputs_by_event(records)
    for event in stream.events:
        first, second = outputs[event.event_id]
        assert second["memory_ids"] == first["memory_ids"]
        assert second["tags_added"] == [] and second["tags_removed"] == []
        assert second["tags"] == first["tags"] or event.event_id != stream.events[-1].event_id
    people = {(e.ticket.requester.id, e.account_id) for e in stream.events if e.ticket.requester is not None}
    profiles = sum(1 for t in tags.values() if t.evaluated_through is not None)
    assert memories == n + profiles + len(people)  # a note per event, a profile per account, an index entry per
    # (requester, account) pair (see memory.tombstones)
