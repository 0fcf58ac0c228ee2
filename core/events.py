"""Event contract v1: what support desks publish to `support.tickets` and what the worker publishes back, and
the privacy topics' deletion requests and results.

Ticket events are tolerant: unknown fields are ignored (producers may add fields within v1) and unknown `type`
values are skipped by the consumer, counted, and never treated as errors; a ticket can only ever add to its own
account's memory. Deletion requests are strict (`extra="forbid"`): they destroy data.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal, get_args

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

EventType = Literal["ticket.created", "ticket.updated", "ticket.comment_added", "ticket.closed"]
KNOWN_EVENT_TYPES: frozenset[str] = frozenset(get_args(EventType))
Priority = Literal["low", "normal", "high", "urgent"]

Id = Field(min_length=1, max_length=200)


class Requester(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    id: str = Id
    email: str | None = Field(default=None, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")


class Ticket(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    id: str = Id
    subject: str = Field(max_length=1_000)
    body: str = Field(max_length=100_000)
    priority: Priority
    channel: str = Field(min_length=1, max_length=50)
    requester: Requester | None = None
    tags: list[str] = Field(default_factory=list, max_length=100)


class EventEnvelope(BaseModel):
    """The two fields needed to decide whether an event is ours to process at all."""

    model_config = ConfigDict(extra="ignore")

    event_id: str = Id
    type: str = Field(min_length=1, max_length=100)


class TicketEvent(BaseModel):
    """One ticket event; the Kafka key is `account_id`."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    event_id: str = Id
    type: EventType
    occurred_at: AwareDatetime
    account_id: str = Id
    ticket: Ticket


class ModelCost(BaseModel):
    """What judging one event cost in model calls made this time: tokens as the server reported them, priced by
    `model.prices` (`cost_usd` is null for a model without a price). Turns replayed from the event's record (a
    retry, a redelivery) cost nothing again and are counted in `replayed_turns`."""

    model_config = ConfigDict(frozen=True)

    model_calls: int = 0
    replayed_turns: int = 0
    input_tokens: int = 0
    cached_input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float | None = None


class EnrichedAccountEvent(BaseModel):
    """One per processed input on `support.accounts.enriched`; key `account_id`.

    `event_id` is the input's, so consumers can de-duplicate: delivery is at-least-once, and a redelivered input
    yields the same `memory_ids` and an empty `tags_added`. `cost` is null for the offline rules model.
    """

    model_config = ConfigDict(frozen=True)

    event_id: str
    account_id: str
    ticket_id: str
    tags: list[str]
    tags_added: list[str]
    tags_removed: list[str]
    memory_ids: list[str]
    evidence: list[str]
    planner: str
    processed_at: datetime
    cost: ModelCost | None = None


class Subject(BaseModel):
    """Whose memories a deletion request is for: an account, a person (a ticket requester), or one person
    within one account."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    account_id: str | None = Field(default=None, min_length=1, max_length=200)
    user_id: str | None = Field(default=None, min_length=1, max_length=200)

    @model_validator(mode="after")
    def _someone(self) -> Subject:
        if self.account_id is None and self.user_id is None:
            raise ValueError("a subject needs account_id, user_id or both")
        return self


class DeletionRequest(BaseModel):
    """One right-to-be-forgotten request on `privacy.deletion-requests`; key: the subject's hash.

    Strict, unlike the ticket contract: a destructive command with a field it does not define is refused, so a
    payload written for another purpose (or a future version) can never be taken for a deletion."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    request_id: str = Id
    subject: Subject
    requested_at: AwareDatetime


class Verification(BaseModel):
    """What list and search still return for the subject after the delete settled; `verified` only when both
    return nothing."""

    verified: bool
    delete_status: str
    remaining_listed: int
    remaining_searched: int


class DeletionCompleted(BaseModel):
    """One per deletion request on `privacy.deletion-completed`. The subject appears only as hashes."""

    model_config = ConfigDict(frozen=True)

    request_id: str
    subject_hashes: list[str]
    requested_at: datetime
    completed_at: datetime
    memories_deleted: int  # by the attempt that completed (earlier attempts may have deleted some)
    accounts_touched: int
    attempts: int
    verification: Verification
