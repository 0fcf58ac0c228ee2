"""The note schema, and its one writer: how the agent's memories of an account look in the store.

An account is Mem0's `user_id`. Per ticket event one note (`metadata.kind = "ticket_note"`, idempotency key = the
event id, `metadata.event_id`, `metadata.planner` = which planner judged it); per account one profile
(`metadata.kind = "account_profile"`, idempotency key `account-profile`) whose metadata holds the tags with their
reasons and evidence, `evaluated_through` (the newest event the tags reflect) and a top-level `tag_<name>` flag per
tag so that a Mem0 filter can find tagged accounts.

Both planners write through `new_note`, `planner_mark` and `profile_metadata`: the LLM's tools one call at a time,
the rules planner a batch at once (`agents.planners.writes`), so the two cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Literal

from pydantic import BaseModel, Field, JsonValue

from ticket_enricher.core.events import TicketEvent
from ticket_enricher.memory.batch import NewMemory
from ticket_enricher.memory.filters import Cond, Node, all_of, scope
from ticket_enricher.memory.store import EntityScope, Memory, MemoryStore

PROFILE_KIND = "account_profile"
NOTE_KIND = "ticket_note"
PROFILE_KEY = "account-profile"
QUOTE_CHARS = 120


class TagRecord(BaseModel):
    reason: str
    evidence_memory_ids: list[str]
    event_id: str
    set_at: datetime
    stage: Literal["rules", "model"] = "rules"  # which stage decided it; the rules never clear a model's tag
    confidence: float | None = None  # the rules' calibrated confidence in setting it (None: a model set it)


class AccountTags(BaseModel):
    tags: dict[str, TagRecord] = Field(default_factory=dict)
    evaluated_through: datetime | None = None


@dataclass(frozen=True)
class NoteDraft:
    """What a planner says about one event: the note's text, categories, signals and the phrase showing each."""

    text: str
    categories: Sequence[str] = ()
    signals: Sequence[str] = ()
    quotes: Mapping[str, str] = field(default_factory=dict)

    # cached (the rules planner reads each of them twice per event); every reader copies what it keeps
    @cached_property
    def signal_list(self) -> list[str]:
        return list(dict.fromkeys(self.signals))

    @cached_property
    def quote_map(self) -> dict[str, str]:
        return {name: phrase[:QUOTE_CHARS] for name, phrase in self.quotes.items()}


def new_note(event: TicketEvent, draft: NoteDraft, planner: str, scope: EntityScope | None = None) -> NewMemory:
    """The note of one event, keyed by its event id (a redelivery finds it instead of writing another). `scope`:
    the account's, when the caller holds it built already (validating one costs more than the rest of a note)."""
    ticket = event.ticket
    metadata: dict[str, JsonValue] = {
        "kind": NOTE_KIND, "event_id": event.event_id, "event_type": event.type, "ticket_id": ticket.id,
        "occurred_at": event.occurred_at.isoformat(), "priority": ticket.priority, "channel": ticket.channel,
        "signals": list(draft.signal_list), "quotes": dict(draft.quote_map), "planner": planner,
    }
    if ticket.requester is not None:
        metadata["requester_id"] = ticket.requester.id
    return NewMemory(draft.text, scope or EntityScope(user_id=event.account_id), event.event_id, metadata,
                     list(dict.fromkeys(draft.categories)), timestamp=event.occurred_at)


def planner_mark(planner: str, previous: JsonValue, draft: NoteDraft | None = None) -> dict[str, JsonValue]:
    """The metadata change on an existing note that another planner judges again (rules or model changed since):
    which planner judged it last and which before, and (the rules planner's re-reading) its signals."""
    change: dict[str, JsonValue] = {"planner": planner, "previous_planner": previous}
    if draft is not None:
        change |= {"signals": list(draft.signal_list), "quotes": dict(draft.quote_map)}
    return change


def profile_metadata(tags: Mapping[str, TagRecord], through: datetime, vocabulary: Iterable[str],
                     cleared: Mapping[str, JsonValue] | None = None) -> dict[str, JsonValue]:
    """The profile's metadata: tags with reason and evidence, `evaluated_through`, a `tag_<name>` flag per tag of
    the vocabulary (a Mem0 filter finds tagged accounts by it) and, when tags were cleared, why."""
    metadata: dict[str, JsonValue] = {
        "kind": PROFILE_KIND,
        "tags": {name: record.model_dump(mode="json") for name, record in tags.items()},
        "evaluated_through": through.isoformat(),
        **{f"tag_{name}": name in tags for name in vocabulary},
    }
    if cleared:
        metadata["last_cleared"] = dict(cleared)
    return metadata


def new_profile(account_id: str, metadata: dict[str, JsonValue]) -> NewMemory:
    """The profile as a new memory; an existing one takes its metadata, unless it reflects a later event."""
    return NewMemory(f"Account profile of {account_id}", EntityScope(user_id=account_id), PROFILE_KEY, metadata,
                     merge_if_exists=True, not_after=("evaluated_through", str(metadata["evaluated_through"])))


def account_filter(account_id: str, kind: str) -> Node:
    """Every memory of one kind for one account: the account is Mem0's `user_id` (see `memory.store`)."""
    return all_of(scope(user_id=account_id), Cond("metadata", "eq", kind, key="kind"))


async def read_account_tags(store: MemoryStore, account_id: str) -> tuple[Memory | None, AccountTags]:
    found = (await store.list(filters=account_filter(account_id, PROFILE_KIND), page_size=1)).results
    if not found:
        return None, AccountTags()
    meta = found[0].metadata
    return found[0], AccountTags.model_validate(
        {"tags": meta.get("tags") or {}, "evaluated_through": meta.get("evaluated_through")}
    )


async def note_of(store: MemoryStore, account_id: str, event_id: str) -> Memory | None:
    """The note the agent wrote for one event, if any."""
    found = await store.list(filters=all_of(account_filter(account_id, NOTE_KIND),
                                            Cond("metadata", "eq", event_id, key="event_id")), page_size=1)
    return found.results[0] if found.results else None
