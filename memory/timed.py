"""Any `MemoryStore`, with how long each operation took reported to a callback (the worker feeds a histogram).

A wrapper rather than timing code in each adapter: both adapters are measured the same way, and the memory
package stays free of the metrics library.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from memory.store import MemoryStore

OPERATIONS = frozenset({"add", "search", "get", "list", "update", "delete", "delete_by_scope", "history", "event",
                        "export"})


class TimedStore:
    def __init__(self, inner: MemoryStore, observe: Callable[[str, float], None]) -> None:
        self.inner = inner
        self.observe = observe

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.inner, name)
        if name not in OPERATIONS:
            return attr

        async def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return await attr(*args, **kwargs)
            finally:
                self.observe(name, time.perf_counter() - started)

        return timed
