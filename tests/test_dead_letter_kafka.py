"""Malformed records go to the DLQ with the reason in a header; the worker keeps going."""

from __future__ import annotations

import json

import pytest
from aiokafka import AIOKafkaProducer
from prometheus_client import REGISTRY

from tests.conftest import TopicReader
from ticket_enricher.config.settings import Settings
from ticket_enricher.consumers.worker import Worker
from ticket_enricher.samples import generate

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
            value, key, sent, _ = bad[i]
            await producer.send(kafka_settings.topics.tickets, value, key=key, headers=sent)
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
        headers = dict(rec.headers)
        by_value[(rec.value, rec.key)] = headers
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


async def test_dlq_commands_list_redrive_and_purge(
    kafka_settings: Settings, producer: AIOKafkaProducer, reader: TopicReader, tmp_path
) -> None:
    import subprocess
    import sys
    from pathlib import Path

    event = generate(seed=32, accounts=1).events[0]
    await producer.send(kafka_settings.topics.tickets, b"{broken", key=event.account_id.encode())
    await producer.send(kafka_settings.topics.tickets, event.model_dump_json().encode(), key=b"wrong-key")
    await producer.flush()
    async with Worker(kafka_settings):
        await reader.read(kafka_settings.topics.dlq, until=lambda r: len(r) >= 2)

    config = tmp_path / "ops.toml"
    t = kafka_settings.topics
    config.write_text(f'[kafka]\nbootstrap_servers = "{kafka_settings.kafka.bootstrap_servers}"\n'
                      f'[topics]\ntickets = "{t.tickets}"\nenriched = "{t.enriched}"\ndlq = "{t.dlq}"\n')
    cli = str(Path(sys.executable).with_name("ticket-enricher"))

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([cli, "dlq", *args, "-c", str(config)], capture_output=True, text=True, timeout=60)

    listed = run("list", "--json")
    assert listed.returncode == 0, listed.stderr
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    assert sorted(r["reason"] for r in rows) == ["invalid_json", "key_mismatch"]
    only = run("list", "--json", "--reason", "key_mismatch")
    assert [json.loads(x)["event_id"] for x in only.stdout.splitlines()] == [event.event_id]
    shown = run("show", str(rows[0]["partition"]), str(rows[0]["offset"]))
    assert shown.returncode == 0 and "x-dlq-reason" in shown.stdout
    dry = run("redrive", "--reason", "invalid_json", "--dry-run")
    assert "would redrive 1" in dry.stdout
    redriven = run("redrive", "--reason", "invalid_json")
    assert "redrove 1" in redriven.stdout
    back = await reader.read(kafka_settings.topics.tickets, until=lambda r: len(r) >= 3)
    again = [r for r in back if dict(r.headers).get("x-redriven-from")]
    assert len(again) == 1 and again[0].value == b"{broken"
    assert not any(k.startswith("x-dlq-") for k, _ in again[0].headers)
    preview = run("purge")
    assert "would delete (dry run; add --yes) 2" in preview.stdout
    assert len(json.loads("[" + ",".join(run("list", "--json").stdout.splitlines()) + "]")) == 2
    purged = run("purge", "--yes")
    assert "deleted 2" in purged.stdout
    assert run("list", "--json").stdout.strip() == ""
