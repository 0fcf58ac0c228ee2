"""On a real broker, every ticket event yields one enriched account event with the right tags."""

from __future__ import annotations

import pytest
from aiokafka import AIOKafkaProducer

from tests.conftest import TopicReader, outputs_by_event
from ticket_enricher.config.settings import Settings
from ticket_enricher.consumers.worker import Worker
from ticket_enricher.samples import generate
from ticket_enricher.samples.publish import publish_events

pytestmark = pytest.mark.kafka


async def test_one_output_per_input_with_ground_truth_tags(
    kafka_settings: Settings, producer: AIOKafkaProducer, reader: TopicReader
) -> None:
    stream = generate(seed=11, accounts=20)
    await publish_events(producer, kafka_settings.topics.tickets, stream.events)

    async with Worker(kafka_settings):
        records = await reader.read(kafka_settings.topics.enriched,
                                    until=lambda r: len(r) >= len(stream.events))
        extra = await reader.settle(kafka_settings.topics.enriched)

    outputs = outputs_by_event(extra)
    assert len(records) == len(stream.events) == len(extra)
    assert set(outputs) == {e.event_id for e in stream.events}
    assert all(len(v) == 1 for v in outputs.values())

    final: dict[str, frozenset[str]] = {}
    for event in stream.events:  # per-account order is preserved, so the last output holds the final tags
        out = outputs[event.event_id][0]
        assert out["account_id"] == event.account_id and out["ticket_id"] == event.ticket.id
        assert out["planner"] == "rules" and len(out["memory_ids"]) == 1
        final[event.account_id] = stream.graded(out["tags"])
    assert final == stream.truth
    tagged = [o[0] for o in outputs.values() if o[0]["tags_added"]]
    assert tagged and all(o["evidence"] for o in tagged)
    assert {a for a, t in stream.truth.items() if t}, "the sample must contain accounts that deserve a tag"
    assert {a for a, t in stream.truth.items() if not t}, "and accounts that do not"


async def test_outputs_are_keyed_by_account(
    kafka_settings: Settings, producer: AIOKafkaProducer, reader: TopicReader
) -> None:
    stream = generate(seed=12, accounts=4)
    await publish_events(producer, kafka_settings.topics.tickets, stream.events)
    async with Worker(kafka_settings):
        records = await reader.read(kafka_settings.topics.enriched, until=lambda r: len(r) >= len(stream.events))
    accounts = {e.event_id: e.account_id for e in stream.events}
    for rec in records:
        payload = outputs_by_event([rec])
        (event_id,) = payload
        assert rec.key == accounts[event_id].encode()
