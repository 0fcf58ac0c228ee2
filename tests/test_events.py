"""Event contract v1: what a valid ticket event is, and what is rejected."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from ticket_enricher.core.events import TicketEvent

VALID: dict[str, Any] = {  # a payload as JSON decodes it
    "event_id": "e-1", "type": "ticket.created", "occurred_at": "2026-03-01T10:00:00+01:00",
    "account_id": "acme", "ticket": {"id": "T-1", "subject": "s", "body": "b", "priority": "high",
                                     "channel": "email", "requester": {"id": "u-1", "email": "a@b.example"},
                                     "tags": ["vip"]},
}


def test_valid_event_parses_with_timezone_kept() -> None:
    event = TicketEvent.model_validate(VALID)
    assert event.occurred_at.utcoffset() is not None
    assert event.ticket.requester is not None and event.ticket.requester.id == "u-1"


def test_unknown_fields_are_ignored_for_forward_compatibility() -> None:
    event = TicketEvent.model_validate(VALID | {"new_field": 1})
    assert not hasattr(event, "new_field")


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("type",), "ticket.merged"),
        (("occurred_at",), "2026-03-01T10:00:00"),  # no offset: ambiguous, rejected
        (("occurred_at",), "yesterday"),
        (("account_id",), ""),
        (("ticket", "priority"), "critical"),
        (("ticket", "requester", "email"), "not-an-email"),
    ],
)
def test_invalid_values_are_rejected(path: tuple[str, ...], value: object) -> None:
    payload = {**VALID, "ticket": {**VALID["ticket"]}}
    target = payload
    for key in path[:-1]:
        target[key] = dict(target[key])
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(ValidationError):
        TicketEvent.model_validate(payload)


def test_requester_is_optional() -> None:
    ticket = {k: v for k, v in VALID["ticket"].items() if k != "requester"}
    assert TicketEvent.model_validate(VALID | {"ticket": ticket}).ticket.requester is None
