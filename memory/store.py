"""The `MemoryStore` port: Mem0's memory model and the operations the agent and the CLI need.

Entity mapping (used by every adapter): an account is Mem0's `user_id`; the worker writes as
`agent_id = "ticket-enricher"`. Metadata values are JSON; `idempotency_key` in metadata makes `add` a no-op
the second time for the same entity, which is what makes redelivered events harmless.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field, JsonValue

AGENT_ID = "ticket-enricher"
MetadataScalar = str | int | float | bool


class Memory(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    memory: str
    user_id: str | None = None
    agent_id: str | None = None
    metadata: dict[str, JsonValue] = Field(default_factory=dict)
    categories: list[str] = Field(default_factory=list)
    created_at: datetime
    updated_at: datetime


class ScoredMemory(Memory):
    score: float = Field(ge=0.0, le=1.0)


class AddResult(BaseModel):
    id: str
    created: bool


class MemoryStore(Protocol):
    """What the agent and the CLI may do with memories; adapters translate transport errors into `core.errors`."""

    async def add(
        self,
        text: str,
        *,
        user_id: str,
        metadata: dict[str, JsonValue] | None = None,
        categories: list[str] | None = None,
        idempotency_key: str | None = None,
    ) -> AddResult: ...

    async def search(
        self,
        query: str,
        *,
        user_id: str,
        top_k: int = 10,
        threshold: float = 0.0,
        metadata_eq: dict[str, MetadataScalar] | None = None,
    ) -> list[ScoredMemory]: ...

    async def get(self, memory_id: str) -> Memory | None: ...

    async def list(
        self,
        *,
        user_id: str,
        metadata_eq: dict[str, MetadataScalar] | None = None,
        page: int = 1,
        page_size: int = 100,
    ) -> list[Memory]: ...

    async def update(
        self, memory_id: str, *, text: str | None = None, metadata: dict[str, JsonValue] | None = None
    ) -> Memory: ...

    async def close(self) -> None: ...
