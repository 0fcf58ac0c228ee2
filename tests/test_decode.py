"""Decoding a raw record names exactly why a record is not a valid event."""

from __future__ import annotations

import json

import pytest

from tests.test_events import VALID
from ticket_enricher.consumers.engine.records import Record
from ticket_enricher.consumers.flows.decode import decode_ticket_event
from ticket_enricher.core.errors import InvalidEvent, UnknownEventType


def record(value: bytes | None, key: bytes | None = b"acme") -> Record:
    return Record(topic="t", partition=0, offset=7, timestamp_ms=1, key=key, value=value)


def test_valid_record_decodes() -> None:
    assert decode_ticket_event(record(json.dumps(VALID).encode()), 10_000).event_id == "e-1"


def test_missing_key_is_accepted() -> None:
    assert decode_ticket_event(record(json.dumps(VALID).encode(), key=None), 10_000).account_id == "acme"


@pytest.mark.parametrize(
    ("value", "key", "reason"),
    [
        (None, b"acme", "empty"),
        (b"   ", b"acme", "empty"),
        (b"x" * 2_000, b"acme", "oversized"),
        (b"{not json", b"acme", "invalid_json"),
        (b"\xff\xfe\x00garbage", b"acme", "invalid_json"),
        (b"[1, 2]", b"acme", "schema"),
        (b'{"type": "ticket.created"}', b"acme", "schema"),
        (json.dumps({**VALID, "ticket": {"id": "T"}}).encode(), b"acme", "schema"),
        (json.dumps(VALID).encode(), b"someone-else", "key_mismatch"),
    ],
)
def test_invalid_records_carry_a_reason(value: bytes | None, key: bytes, reason: str) -> None:
    with pytest.raises(InvalidEvent) as caught:
        decode_ticket_event(record(value, key), 1_000)
    assert caught.value.reason == reason
    assert caught.value.detail


def test_unknown_type_is_a_skip_not_an_error() -> None:
    payload = {"event_id": "e-9", "type": "csat.received", "whatever": True}
    with pytest.raises(UnknownEventType) as caught:
        decode_ticket_event(record(json.dumps(payload).encode()), 10_000)
    assert caught.value.event_type == "csat.received"
