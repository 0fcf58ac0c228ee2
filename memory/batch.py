"""Writes of a whole batch: the deterministic planner's notes and profile changes for one fetch, in one transaction
where the store can (group commit: SQLite, PostgreSQL), else one call at a time (Mem0 Platform).

Every new memory carries an idempotency key, and its id is planned from its entity ids and that key (`planned_id`),
so the planner can name a note as evidence before it is written, and two members that both write the same event
(a zombie after a rebalance) write one memory. A store that assigns ids itself gets the planned ids remapped to its
own in the changes that name them. A change merges metadata at the top level, and `not_after` makes it
conditional (the profile's `evaluated_through`): a writer holding older state never rewinds what a newer one wrote.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Protocol

from pydantic import JsonValue

from ticket_enricher.memory.store import EntityScope, MemoryStore

_NAMESPACE = uuid.UUID("6f3a0c52-8d1e-4c7b-9a45-2b1f0e7d9c13")
_NAMESPACE_BYTES = _NAMESPACE.bytes


def planned_id(scope: EntityScope, key: str) -> str:
    """The id of the memory with these entity ids and idempotency key, the same in every process: the UUID 5 of
    them in our namespace (`uuid.uuid5`, computed here without building a UUID object: a note per event)."""
    name = (f"user_id={scope.user_id or ''}\0agent_id={scope.agent_id or ''}\0app_id={scope.app_id or ''}"
            f"\0run_id={scope.run_id or ''}\0{key}")
    digest = bytearray(hashlib.sha1(_NAMESPACE_BYTES + name.encode()).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 4122 variant
    h = digest.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


@dataclass(frozen=True)
class NewMemory:
    text: str
    scope: EntityScope
    key: str  # the idempotency key: one memory per (entity ids, key), whoever writes it
    metadata: dict[str, JsonValue] = field(default_factory=dict)
    categories: list[str] = field(default_factory=list)
    timestamp: datetime | None = None
    merge_if_exists: bool = False  # an existing memory takes this metadata instead (guarded by `not_after`)
    not_after: tuple[str, str] | None = None  # as `Change.not_after`, for that merge

    @cached_property
    def id(self) -> str:
        return planned_id(self.scope, self.key)


@dataclass(frozen=True)
class Change:
    memory_id: str  # a stored id, or a planned one of this batch
    metadata: dict[str, JsonValue]  # merged into the memory's metadata, top-level keys
    not_after: tuple[str, str] | None = None  # (key, ISO time): skip if the stored value is later than this


@dataclass
class Written:
    ids: dict[str, str] = field(default_factory=dict)  # planned id -> stored id
    created: set[str] = field(default_factory=set)  # planned ids of memories this batch created
    skipped: int = 0  # changes a later stored value won over


class BatchWriter(Protocol):
    async def write_batch(self, new: list[NewMemory], changes: list[Change]) -> Written: ...


def newer(stored: JsonValue, mine: str) -> bool:
    """Whether a stored ISO time is later than ours (either may be missing)."""
    if not isinstance(stored, str) or not stored:
        return False
    try:
        return datetime.fromisoformat(stored) > datetime.fromisoformat(mine)
    except ValueError:
        return False


def remapped(value: JsonValue, ids: dict[str, str]) -> JsonValue:
    """`value` with every planned id that the store stored under another id replaced by that id."""
    if isinstance(value, str):
        return ids.get(value, value)
    if isinstance(value, list):
        return [remapped(v, ids) for v in value]
    if isinstance(value, dict):
        return {k: remapped(v, ids) for k, v in value.items()}
    return value


def remapped_metadata(metadata: dict[str, JsonValue], ids: dict[str, str]) -> dict[str, JsonValue]:
    """`remapped` of a metadata object, which stays an object."""
    return {k: remapped(v, ids) for k, v in metadata.items()}


async def write_batch(store: MemoryStore, new: list[NewMemory], changes: list[Change]) -> Written:
    """In one transaction when the store writes batches itself, else one call at a time, in order."""
    native: Callable[[list[NewMemory], list[Change]], Awaitable[Written]] | None = getattr(store, "write_batch", None)
    if native is not None:
        return await native(new, changes)
    written = Written()
    merges: list[Change] = []
    actual: dict[str, str] = {}  # planned -> stored, where they differ
    for memory in new:
        metadata = remapped_metadata(memory.metadata, actual)
        result = await store.add(memory.text, scope=memory.scope, metadata=metadata,
                                 categories=memory.categories, idempotency_key=memory.key,
                                 timestamp=memory.timestamp)
        written.ids[memory.id] = result.id
        if result.id != memory.id:
            actual[memory.id] = result.id
        if result.created:
            written.created.add(memory.id)
        elif memory.merge_if_exists:
            merges.append(Change(memory.id, memory.metadata, memory.not_after))
    for change in [*merges, *changes]:
        memory_id = written.ids.get(change.memory_id, change.memory_id)
        if change.not_after is not None:
            current = await store.get(memory_id)
            key, mine = change.not_after
            if current is not None and newer(current.metadata.get(key), mine):
                written.skipped += 1
                continue
        await store.update(memory_id, metadata=remapped_metadata(change.metadata, actual))
    return written
