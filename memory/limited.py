"""A `MemoryStore` behind the adaptive limiter (see `core.limiter`), for remote stores such as Mem0 Platform.

Calls that name an account (writes with a scope, reads with a filter scoped to one `user_id`) take that
account's slot; the rest share one. Transport stays in the adapter; this only paces it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from ticket_enricher.core.limiter import AdaptiveLimiter
from ticket_enricher.memory.filters import Node, as_node, scoped_entities
from ticket_enricher.memory.store import EntityScope, MemoryStore
from ticket_enricher.memory.wrapper import StoreWrapper

T = TypeVar("T")
_SHARED = "*"


def _tenant(scope: EntityScope | None, filters: Node | dict[str, Any] | None) -> str:
    if scope is not None and scope.user_id:
        return scope.user_id
    if filters is not None:
        users = {v for f, v in scoped_entities(as_node(filters)) or set() if f == "user_id"}
        if len(users) == 1:
            return str(users.pop())
    return _SHARED


class LimitedStore(StoreWrapper):
    def __init__(self, store: MemoryStore, limiter: AdaptiveLimiter) -> None:
        super().__init__(store)
        self.limiter = limiter

    async def around(self, operation: str, call: Callable[[], Awaitable[T]], *, scope: EntityScope | None = None,
                     filters: Node | dict[str, Any] | None = None) -> T:
        async with self.limiter.slot(_tenant(scope, filters)):
            return await call()
