"""The note schema: how the agent's memories of an account look in the store, in one place.

An account is Mem0's `user_id`. Per ticket event one note (`metadata.kind = "ticket_note"`, idempotency key = the
event id, `metadata.event_id`, `metadata.planner` = which planner judged it); per account one profile
(`metadata.kind = "account_profile"`, idempotency key `account-profile`) whose metadata holds the tags with their
reasons and evidence, `evaluated_through` (the newest event the tags reflect) and a top-level `tag_<name>` flag per
tag so that a Mem0 filter can find tagged accounts.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from ticket_enricher.memory.filters import Cond, Node, all_of, scope
from ticket_enricher.memory.store import Memory, MemoryStore

PROFILE_KIND = "account_profile"
NOTE_KIND = "ticket_note"
PROFILE_KEY = "account-profile"


class TagRecord(BaseModel):
    reason: str
    evidence_memory_ids: list[str]
    event_id: str
    set_at: datetime


class AccountTags(BaseModel):
    tags: dict[str, TagRecord] = Field(default_factory=dict)
    evaluated_through: datetime | None = None


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
