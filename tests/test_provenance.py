"""Provenance headers: dropped and counted on input topics, bounded on delay tiers, signed when configured."""

from __future__ import annotations

import logging

import pytest
from prometheus_client import REGISTRY

from ticket_enricher.config.settings import load_settings
from ticket_enricher.consumers.engine.records import Record
from ticket_enricher.consumers.flows import provenance
from ticket_enricher.consumers.flows.policy import decide
from ticket_enricher.consumers.flows.provenance import Signer, arrival, delay_headers, due_ms, from_tier
from ticket_enricher.core.errors import RateLimited

S = load_settings(retry={"tiers_seconds": [5, 30, 300], "max_attempts": 5, "max_wait_seconds": 3600})
ROUTES = S.routes()
TICKETS = ROUTES.tickets
NOW = 1_800_000_000_000
YEAR_3000_MS = 32_503_680_000_000


def record(topic: str, headers: list[tuple[str, bytes | None]], *, timestamp: int = NOW - 1_000,
           value: bytes = b'{"x": 1}') -> Record:
    return Record(topic, 1, 42, timestamp, b"acme", value, tuple(headers))


def test_on_an_input_topic_our_headers_are_dropped_counted_and_logged_by_name_only(
    caplog: pytest.LogCaptureFixture,
) -> None:
    raw = record(TICKETS.topic, [("trace", b"t-1"), ("x-retry-attempt", b"99"), ("X-DLQ-Reason", b"secret-value"),
                                 ("trace", b"t-2"), ("x-redriven-from", b"dlq:0:1"),
                                 ("x-retry-original-topic", ROUTES.deletions.topic.encode())])
    before = REGISTRY.get_sample_value("ticket_enricher_foreign_provenance_total", {"topic": TICKETS.topic}) or 0
    with caplog.at_level(logging.WARNING, "ticket_enricher.provenance"):
        clean, prov = arrival(raw)
    assert clean.headers == (("trace", b"t-1"), ("trace", b"t-2")), "the producer's own, in order, duplicates too"
    assert prov.attempts == 0 and prov.forged is None
    assert (prov.origin.topic, prov.origin.partition, prov.origin.offset) == (TICKETS.topic, 1, 42)
    after = REGISTRY.get_sample_value("ticket_enricher_foreign_provenance_total", {"topic": TICKETS.topic})
    assert after == before + 1, "counted once per record"
    logged = caplog.text
    assert "x-retry-attempt" in logged and "x-redriven-from" in logged and "X-DLQ-Reason" in logged
    assert "secret-value" not in logged and "99" not in logged, "header values never reach the log"


def test_a_record_without_our_headers_is_passed_through_untouched() -> None:
    raw = record(TICKETS.topic, [("trace", b"\xff\xfe not utf-8")])
    clean, prov = arrival(raw)
    assert clean is raw and prov.attempts == 0


@pytest.mark.parametrize(("value", "expected"), [
    (b"2", 2), (b"0", 1), (b"-7", 1), (b"99", 5), (b"not a number", 1), (b"\xff\xfe", 1), (b"9" * 5000, 1),
])
def test_on_a_delay_tier_the_attempt_count_is_clamped_to_the_route(value: bytes, expected: int) -> None:
    tier = TICKETS.tiers[0]
    assert from_tier(record(tier.topic, [("x-retry-attempt", value)]), TICKETS).attempts == expected


def test_a_duplicated_attempt_header_is_not_believed() -> None:
    tier = TICKETS.tiers[0]
    twice = record(tier.topic, [("x-retry-attempt", b"1"), ("x-retry-attempt", b"4")])
    assert from_tier(twice, TICKETS).attempts == 1


def test_the_original_topic_is_the_routes_whatever_a_header_says() -> None:
    tier = TICKETS.tiers[0]
    forged = record(tier.topic, [("x-retry-original-topic", ROUTES.deletions.topic.encode()),
                                 ("x-retry-original-partition", b"0"), ("x-retry-original-offset", b"0")])
    origin = from_tier(forged, TICKETS).origin
    assert origin.topic == TICKETS.topic and origin.partition == 0 and origin.offset == 0


def test_a_due_time_far_in_the_future_is_cut_to_the_tiers_delay() -> None:
    five, largest = TICKETS.tiers[0], TICKETS.tiers[-1]
    late = record(five.topic, [("x-retry-due-ms", str(YEAR_3000_MS).encode())], timestamp=NOW - 1_000)
    assert due_ms(late, TICKETS, five, NOW) == NOW - 1_000 + 5_000
    # a forged timestamp cannot move the bound: the earlier of timestamp and first sight counts
    future = record(five.topic, [("x-retry-due-ms", str(YEAR_3000_MS).encode())], timestamp=YEAR_3000_MS)
    assert due_ms(future, TICKETS, five, NOW) == NOW + 5_000
    # the largest tier allows the longest server wait the policy honours
    assert due_ms(record(largest.topic, [("x-retry-due-ms", str(YEAR_3000_MS).encode())], timestamp=NOW),
                  TICKETS, largest, NOW) == NOW + 3_600_000
    # an honest due time is kept; a missing or garbled one means the tier's own delay
    honest = record(five.topic, [("x-retry-due-ms", str(NOW + 4_000).encode())], timestamp=NOW - 1_000)
    assert due_ms(honest, TICKETS, five, NOW) == NOW + 4_000
    assert due_ms(record(five.topic, [("x-retry-due-ms", b"\xff")]), TICKETS, five, NOW) == NOW - 1_000 + 5_000
    twice = record(five.topic, [("x-retry-due-ms", b"1"), ("x-retry-due-ms", str(YEAR_3000_MS).encode())])
    assert due_ms(twice, TICKETS, five, NOW) == NOW - 1_000 + 5_000


def test_what_the_worker_writes_it_reads_back_the_same_and_signed() -> None:
    signer = Signer(b"k" * 32)
    _, first = arrival(record(TICKETS.topic, [("trace", b"t")]))
    decision = decide(RateLimited("model", 2.0), attempt=1, route=TICKETS, retry=S.retry, now_ms=NOW)
    assert decision.topic is not None
    original = record(TICKETS.topic, [("trace", b"t")])
    ours = delay_headers(original, first, decision, group=TICKETS.group, error=RateLimited("model", 2.0),
                         signer=signer)
    copy = Record(decision.topic, 0, 7, NOW, original.key, original.value, (("trace", b"t"), *ours))
    back = from_tier(copy, TICKETS, signer)
    assert back.forged is None and back.attempts == 1 and back.origin == first.origin
    tier = TICKETS.tier_of(decision.topic)
    assert tier is not None and due_ms(copy, TICKETS, tier, NOW) == decision.due_ms


def _signed_copy(signer: Signer) -> Record:
    _, first = arrival(record(TICKETS.topic, []))
    decision = decide(RateLimited("model", 1.0), attempt=1, route=TICKETS, retry=S.retry, now_ms=NOW)
    ours = delay_headers(record(TICKETS.topic, []), first, decision, group=TICKETS.group,
                         error=RateLimited("model", 1.0), signer=signer)
    assert decision.topic is not None
    return Record(decision.topic, 0, 7, NOW, b"acme", b'{"x": 1}', tuple(ours))


def _with(copy: Record, **changes: object) -> Record:
    return Record(**{**copy.__dict__, **changes})


def test_a_signature_binds_provenance_key_value_and_tier() -> None:
    signer = Signer(b"k" * 32)
    copy = _signed_copy(signer)
    assert from_tier(copy, TICKETS, signer).forged is None
    bumped = tuple((k, b"4") if k == "x-retry-attempt" else (k, v) for k, v in copy.headers)
    assert from_tier(_with(copy, headers=bumped), TICKETS, signer).forged
    assert from_tier(_with(copy, value=b'{"x": 2}'), TICKETS, signer).forged
    assert from_tier(_with(copy, key=b"another-account"), TICKETS, signer).forged
    assert from_tier(_with(copy, topic=ROUTES.deletions.tiers[0].topic), ROUTES.deletions, signer).forged
    extra = copy.headers + (("x-retry-original-topic", b"elsewhere"),)
    assert "duplicated" in str(from_tier(_with(copy, headers=extra), TICKETS, signer).forged)
    unsigned = tuple((k, v) for k, v in copy.headers if k != provenance.SIGNATURE)
    assert from_tier(_with(copy, headers=unsigned), TICKETS, signer).forged
    assert from_tier(copy, TICKETS, Signer(b"another key")).forged


def test_every_topic_has_one_role_and_each_flow_its_own_tiers_and_dead_letters() -> None:
    assert [t.topic for t in TICKETS.tiers] == [f"support.tickets.delay.{s}s" for s in (5, 30, 300)]
    assert [t.topic for t in ROUTES.deletions.tiers] == [f"privacy.deletion-requests.delay.{s}s"
                                                         for s in S.privacy.tiers_seconds]
    assert ROUTES.deletions.dlq == "privacy.deletion-requests.dlq" != TICKETS.dlq
    assert ROUTES.deletions.max_attempts is None and TICKETS.max_attempts == 5
    assert ROUTES.live_groups == ["ticket-enricher", "ticket-enricher.delays", "ticket-enricher.privacy",
                                  "ticket-enricher.privacy.delays"]
    names = ROUTES.topic_names()
    assert len(names) == len(set(names)) == 12
    with pytest.raises(ValueError, match="one role"):
        load_settings(topics={"deletion_dlq": "support.tickets.dlq"})
    with pytest.raises(ValueError, match="TICKET_ENRICHER_PROVENANCE_KEY"):
        load_settings(retry={"sign_provenance": True})
