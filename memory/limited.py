"""A `MemoryStore` behind the adaptive limiter (see `core.limiter`), for remote stores such as Mem0 Platform.

Calls that name an account (writes with a scope, reads with a filter scoped to one `user_id`) take that
account's slot; the rest share one. Transport stays in the adapter; this only paces it.
"""

from __future__ import annotations

from typing import Any

from core.limiter import AdaptiveLimiter
from memory.filters import as_node, scoped_entities
from memory.store import EntityScope, MemoryStore

_SHARED = "*"


def _tenant(kwargs: dict[str, Any]) -> str:
    scope = kwargs.get("scope")
    if isinstance(scope, EntityScope) and scope.user_id:
        return scope.user_id
    filters = kwargs.get("filters")
    if filters is not None:
        users = {v for f, v in scoped_entities(as_node(filters)) or set() if f == "user_id"}
        if len(users) == 1:
            return str(users.pop())
    return _SHARED


class LimitedStore:
    def __init__(self, store: MemoryStore, limiter: AdaptiveLimiter) -> None:
        self.store = store
        self.limiter = limiter

    def __getattr__(self, name: str) -> Any:
        target = getattr(self.store, name)
        if name == "close" or not callable(target):
            return target

        async def paced(*args: Any, **kwargs: Any) -> Any:
            async with self.limiter.slot(_tenant(kwargs)):
                return await target(*args, **kwargs)

        return paced
