"""Any `MemoryStore`, with how long each operation took reported to a callback (the worker feeds a histogram).

A wrapper rather than timing code in each adapter: every adapter is measured the same way, and the memory package
stays free of the metrics library.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from ticket_enricher.memory.filters import Node
from ticket_enricher.memory.store import EntityScope, MemoryStore
from ticket_enricher.memory.wrapper import StoreWrapper

T = TypeVar("T")


class TimedStore(StoreWrapper):
    def __init__(self, inner: MemoryStore, observe: Callable[[str, float], None]) -> None:
        super().__init__(inner)
        self.observe = observe

    async def around(self, operation: str, call: Callable[[], Awaitable[T]], *, scope: EntityScope | None = None,
                     filters: Node | dict[str, Any] | None = None) -> T:
        started = time.perf_counter()
        try:
            return await call()
        finally:
            self.observe(operation, time.perf_counter() - started)
