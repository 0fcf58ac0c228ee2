"""Malformed records go to the DLQ with the reason in a header; the worker keeps going."""

from __future__ import annotations

import json

import pytest
from aiokafka import AIOKafkaProducer
from prometheus_client import REGISTRY

from config.settings import Settings
from consumers.worker import Worker
from samples import generate
from tests.conftest import TopicReader

pytestmark = pytest.mark.kafka


async def test_malformed_records_are_dead_lettered_and_valid_ones_processed(
    kafka_settings: Settings, producer: AIOKafkaProducer, reader: TopicReader
) -> None:
    valid = generate(seed=31, accounts=3).events
    first = valid[0]
    bad: list[tuple[bytes | None, bytes, list[tuple[str, bytes]], str]] = [
        (b"not json at all", b"acme", [], "invalid_json"),
        (b"\x00\xff\xfe binary", b"acme", [("trace", b"\xff\xfe")], "invalid_json"),
        (json.dumps({"event_id": "x", "type": "ticket.created"}).encode(), b"acme", [], "schema"),
        (json.dumps({**json.loads(first.model_dump_json()), "occurred_at": "noon"}).encode(),
         first.account_id.encode(), [], "schema"),
        (first.model_dump_json().encode(), b"not-the-account", [], "key_mismatch"),
        (b"{" + b" " * (kafka_settings.worker.max_message_bytes + 10) + b"}", b"acme", [], "oversized"),
        (None, b"acme", [], "empty"),
    ]
    unknown = json.dumps({"event_id": "u-1", "type": "ticket.merged", "account_id": "acme"}).encode()
    for i, event in enumerate(valid):
        if i < len(bad):
            value, key, headers, _ = bad[i]
            await producer.send(kafka_settings.topics.tickets, value, key=key, headers=headers)
        await producer.send(kafka_settings.topics.tickets, event.model_dump_json().encode(),
                            key=event.account_id.encode())
    await producer.send(kafka_settings.topics.tickets, unknown, key=b"acme")
    await producer.flush()

    skipped_before = REGISTRY.get_sample_value("ticket_enricher_events_skipped_total", {"type": "ticket.merged"}) or 0
    async with Worker(kafka_settings):
        dead = await reader.read(kafka_settings.topics.dlq, until=lambda r: len(r) >= len(bad))
        done = await reader.read(kafka_settings.topics.enriched, until=lambda r: len(r) >= len(valid))
        dead = await reader.settle(kafka_settings.topics.dlq)

    assert len(done) == len(valid)
    assert len(dead) == len(bad)  # the unknown type is neither dead-lettered ...
    skipped = REGISTRY.get_sample_value("ticket_enricher_events_skipped_total", {"type": "ticket.merged"})
    assert skipped == skipped_before + 1  # ... nor lost: it is counted as skipped
    by_value = {}
    for rec in dead:
        headers = dict(rec.headers)  # type: ignore[attr-defined]
        by_value[(rec.value, rec.key)] = headers  # type: ignore[attr-defined]
        assert headers["x-dlq-original-topic"] == kafka_settings.topics.tickets.encode()
        assert int(headers["x-dlq-original-offset"]) >= 0
        assert int(headers["x-dlq-original-partition"]) in range(kafka_settings.topics.partitions)
        assert int(headers["x-dlq-original-timestamp"]) > 0
        assert headers["x-dlq-consumer-group"] == kafka_settings.kafka.group_id.encode()
        assert headers["x-dlq-error"]
    for value, key, original_headers, reason in bad:
        headers = by_value[(value, key)]
        assert headers["x-dlq-reason"] == reason.encode()
        for name, raw in original_headers:
            assert headers[name] == raw  # original headers are kept byte for byte
