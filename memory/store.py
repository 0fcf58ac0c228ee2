"""The `MemoryStore` port: Mem0's memory model and operations, with the same semantics in every adapter.

Entity mapping (every adapter, everywhere in the worker): **an account is Mem0's `user_id`**. Ticket notes and the
account profile are written with `user_id = account_id` and no other entity id, so a filter on `user_id` alone
reaches all of an account's memories and nothing else.

Idempotency: `add(..., idempotency_key=k)` stores `k` in `metadata.idempotency_key` and returns the existing memory
when one with the same key and entity ids exists (Mem0 itself is add-only and would duplicate).
"""

from __future__ import annotations

import builtins
from datetime import datetime
from typing import Any, Literal, Protocol, TypedDict

from pydantic import BaseModel, ConfigDict, Field, JsonValue, model_validator

from ticket_enricher.memory.filters import Node, scope

EventStatus = Literal["PENDING", "RUNNING", "SUCCEEDED", "FAILED"]


_SCOPE_FIELDS = ("user_id", "agent_id", "app_id", "run_id")


class EntityScope(BaseModel):
    """The entity ids a memory is written under, or that a delete-by-filter removes; at least one."""

    model_config = ConfigDict(frozen=True)

    user_id: str | None = Field(default=None, min_length=1)
    agent_id: str | None = Field(default=None, min_length=1)
    app_id: str | None = Field(default=None, min_length=1)
    run_id: str | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _at_least_one(self) -> EntityScope:
        if not any(self.ids().values()):
            raise ValueError("an entity scope needs at least one of user_id, agent_id, app_id, run_id")
        return self

    def ids(self) -> dict[str, str]:
        return {k: v for k in _SCOPE_FIELDS if (v := getattr(self, k)) is not None}

    def as_filter(self) -> Node:
        return scope(**self.ids())


class Memory(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    memory: str
    user_id: str | None = None
    agent_id: str | None = None
    app_id: str | None = None
    run_id: str | None = None
    metadata: dict[str, JsonValue] = Field(default_factory=dict)
    categories: list[str] = Field(default_factory=list)
    created_at: datetime
    updated_at: datetime


class MemoryFields(TypedDict):
    """A `Memory` as a stored row gives it (`Memory(**fields)`)."""

    id: str
    memory: str
    user_id: str | None
    agent_id: str | None
    app_id: str | None
    run_id: str | None
    metadata: dict[str, JsonValue]
    categories: list[str]
    created_at: datetime
    updated_at: datetime


class ScoredMemory(Memory):
    score: float = Field(ge=0.0, le=1.0)
    score_breakdown: dict[str, float] = Field(default_factory=dict)


class AddResult(BaseModel):
    id: str
    event_id: str | None
    created: bool


class Page(BaseModel):
    results: list[Memory]
    count: int
    has_next: bool


class HistoryEntry(BaseModel):
    memory_id: str
    event: Literal["ADD", "UPDATE", "DELETE"]
    old_memory: str | None = None
    new_memory: str | None = None
    created_at: datetime


class MemoryEvent(BaseModel):
    id: str
    status: EventStatus
    event_type: str | None = None
    results: list[JsonValue] = Field(default_factory=list)
    error: str | None = None


class MemoryStore(Protocol):
    """Adapters raise `core.errors` (RateLimited, TransientError, PermanentFailure) and `InvalidFilter`."""

    async def add(
        self,
        text: str,
        *,
        scope: EntityScope,
        metadata: dict[str, JsonValue] | None = None,
        categories: list[str] | None = None,
        idempotency_key: str | None = None,
        timestamp: datetime | None = None,
    ) -> AddResult: ...

    async def search(
        self, query: str, *, filters: Node | dict[str, Any], top_k: int = 10, threshold: float = 0.0
    ) -> list[ScoredMemory]: ...

    async def get(self, memory_id: str) -> Memory | None: ...

    async def list(self, *, filters: Node | dict[str, Any], page: int = 1, page_size: int = 100) -> Page: ...

    async def update(
        self, memory_id: str, *, text: str | None = None, metadata: dict[str, JsonValue] | None = None
    ) -> Memory: ...

    async def delete(self, memory_id: str) -> bool: ...

    async def delete_by_scope(self, scope: EntityScope) -> str:
        """Start deleting every memory under `scope`; returns the event id to poll (see `memory.events`)."""
        ...

    async def history(self, memory_id: str) -> builtins.list[HistoryEntry]: ...

    async def event(self, event_id: str) -> MemoryEvent: ...

    async def export(self, schema: dict[str, JsonValue], *, filters: Node | dict[str, Any]) -> dict[str, JsonValue]:
        """A structured export: the memories matching `filters` shaped by the JSON Schema `schema`."""
        ...

    async def close(self) -> None: ...


async def list_all(store: MemoryStore, *, filters: Node | dict[str, Any], page_size: int = 100) -> list[Memory]:
    """Every memory matching `filters`, page after page."""
    found: list[Memory] = []
    page = 1
    while True:
        batch = await store.list(filters=filters, page=page, page_size=page_size)
        found.extend(batch.results)
        if not batch.has_next:
            return found
        page += 1
