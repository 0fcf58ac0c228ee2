"""A `MemoryStore` around another one, every operation through one hook: the base of the timed and the paced
stores. Explicit methods rather than `__getattr__`, so that the type checker and the reader see the port."""

from __future__ import annotations

import builtins
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, TypeVar

from pydantic import JsonValue

from ticket_enricher.memory.batch import Change, NewMemory, Written, write_batch
from ticket_enricher.memory.filters import Node
from ticket_enricher.memory.store import (
    AddResult,
    EntityScope,
    HistoryEntry,
    Memory,
    MemoryEvent,
    MemoryStore,
    Page,
    ScoredMemory,
)

T = TypeVar("T")


class StoreWrapper:
    def __init__(self, inner: MemoryStore) -> None:
        self.inner = inner

    async def around(self, operation: str, call: Callable[[], Awaitable[T]], *, scope: EntityScope | None = None,
                     filters: Node | dict[str, Any] | None = None) -> T:
        """Run one operation of the inner store; `scope` or `filters` say whose memories it touches."""
        return await call()

    async def add(self, text: str, *, scope: EntityScope, metadata: dict[str, JsonValue] | None = None,
                  categories: list[str] | None = None, idempotency_key: str | None = None,
                  timestamp: datetime | None = None) -> AddResult:
        return await self.around("add", lambda: self.inner.add(
            text, scope=scope, metadata=metadata, categories=categories, idempotency_key=idempotency_key,
            timestamp=timestamp), scope=scope)

    async def search(self, query: str, *, filters: Node | dict[str, Any], top_k: int = 10,
                     threshold: float = 0.0) -> list[ScoredMemory]:
        return await self.around("search", lambda: self.inner.search(
            query, filters=filters, top_k=top_k, threshold=threshold), filters=filters)

    async def get(self, memory_id: str) -> Memory | None:
        return await self.around("get", lambda: self.inner.get(memory_id))

    async def list(self, *, filters: Node | dict[str, Any], page: int = 1, page_size: int = 100) -> Page:
        return await self.around("list", lambda: self.inner.list(filters=filters, page=page, page_size=page_size),
                                 filters=filters)

    async def update(self, memory_id: str, *, text: str | None = None,
                     metadata: dict[str, JsonValue] | None = None) -> Memory:
        return await self.around("update", lambda: self.inner.update(memory_id, text=text, metadata=metadata))

    async def delete(self, memory_id: str) -> bool:
        return await self.around("delete", lambda: self.inner.delete(memory_id))

    async def delete_by_scope(self, scope: EntityScope) -> str:
        return await self.around("delete_by_scope", lambda: self.inner.delete_by_scope(scope), scope=scope)

    async def history(self, memory_id: str) -> builtins.list[HistoryEntry]:
        return await self.around("history", lambda: self.inner.history(memory_id))

    async def event(self, event_id: str) -> MemoryEvent:
        return await self.around("event", lambda: self.inner.event(event_id))

    async def export(self, schema: dict[str, JsonValue], *, filters: Node | dict[str, Any]) -> dict[str, JsonValue]:
        return await self.around("export", lambda: self.inner.export(schema, filters=filters), filters=filters)

    async def write_batch(self, new: builtins.list[NewMemory], changes: builtins.list[Change]) -> Written:
        """A batch (`memory.batch`): one transaction when the inner store writes batches, else call by call."""
        return await self.around("write_batch", lambda: write_batch(self.inner, new, changes))

    async def ping(self) -> None:
        """The inner store's start-up check, when it has one (`memory.factory.check_store`)."""
        ping = getattr(self.inner, "ping", None)
        if ping is not None:
            await self.around("ping", ping)

    async def close(self) -> None:
        await self.inner.close()
