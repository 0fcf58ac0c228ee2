"""Turn raw record bytes into a `TicketEvent`, or say exactly why not (`InvalidEvent.reason`)."""

from __future__ import annotations

import json

from pydantic import ValidationError

from ticket_enricher.consumers.engine.records import Record
from ticket_enricher.core.errors import InvalidEvent, UnknownEventType
from ticket_enricher.core.events import KNOWN_EVENT_TYPES, EventEnvelope, TicketEvent


def decode_ticket_event(record: Record, max_bytes: int) -> TicketEvent:
    value = record.value
    if value is None or not value.strip():
        raise InvalidEvent("empty", "the record has no value")
    if len(value) > max_bytes:
        raise InvalidEvent("oversized", f"{len(value)} bytes is over the {max_bytes}-byte limit")
    try:  # the common case in one pass of pydantic-core's own JSON parser; anything else is explained below
        event = TicketEvent.model_validate_json(value)
    except ValidationError:
        event = _explained(value)
    if record.key is not None and record.key != event.account_id.encode():
        raise InvalidEvent(
            "key_mismatch",
            f"record key {record.key[:100]!r} is not the event's account_id {event.account_id!r}; "
            "per-account ordering needs key = account_id",
        )
    return event


def _explained(value: bytes) -> TicketEvent:
    """The event read step by step, so that a bad one is refused with the exact reason (or, for JSON only
    Python's parser accepts, such as UTF-16 text, decoded all the same)."""
    try:
        payload = json.loads(value)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidEvent("invalid_json", str(exc)[:300]) from exc
    if not isinstance(payload, dict):
        raise InvalidEvent("schema", f"expected a JSON object, got {type(payload).__name__}")
    try:
        envelope = EventEnvelope.model_validate(payload)
    except ValidationError as exc:
        raise InvalidEvent("schema", _summary(exc)) from exc
    if envelope.type not in KNOWN_EVENT_TYPES:
        raise UnknownEventType(envelope.type)
    try:
        return TicketEvent.model_validate(payload)
    except ValidationError as exc:
        raise InvalidEvent("schema", _summary(exc)) from exc


def _summary(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        where = ".".join(str(p) for p in err["loc"]) or "event"
        parts.append(f"{where}: {err['msg']}")
    more = exc.error_count() - len(parts)
    return "; ".join(parts) + (f" (+{more} more)" if more > 0 else "")
