"""Waiting on a store's asynchronous operations, and the delete that is only done once verified.

Mem0 answers adds and deletes with an event id and does the work later; the embedded store finishes at once.
Both are handled the same way here: poll with capped exponential back-off until the event settles, then (for a
delete) check with list *and* search that nothing of the scope remains.
"""

from __future__ import annotations

import asyncio
import time

from pydantic import BaseModel

from ticket_enricher.core.errors import TransientError
from ticket_enricher.memory.store import EntityScope, MemoryEvent, MemoryStore


class DeletionReport(BaseModel):
    event_id: str
    status: str
    remaining_listed: int
    remaining_searched: int

    @property
    def verified(self) -> bool:
        return self.status == "SUCCEEDED" and self.remaining_listed == 0 and self.remaining_searched == 0


async def wait_for_event(
    store: MemoryStore, event_id: str, *, timeout: float = 60.0, first_delay: float = 0.05, max_delay: float = 2.0
) -> MemoryEvent:
    """Poll until SUCCEEDED or FAILED; a still-running event after `timeout` is a `TransientError`."""
    deadline = time.monotonic() + timeout
    delay = first_delay
    while True:
        event = await store.event(event_id)
        if event.status in ("SUCCEEDED", "FAILED"):
            return event
        if time.monotonic() + delay > deadline:
            raise TransientError(f"memory event {event_id} still {event.status} after {timeout:.0f}s")
        await asyncio.sleep(delay)
        delay = min(delay * 2, max_delay)


async def delete_and_verify(store: MemoryStore, scope: EntityScope, *, timeout: float = 60.0) -> DeletionReport:
    """Delete every memory under `scope`, wait for it, and report what list and search still return."""
    event_id = await store.delete_by_scope(scope)
    event = await wait_for_event(store, event_id, timeout=timeout)
    listed = await store.list(filters=scope.as_filter(), page_size=10)
    searched = await store.search("memory", filters=scope.as_filter(), top_k=10, threshold=0.0)
    return DeletionReport(event_id=event_id, status=event.status, remaining_listed=listed.count,
                          remaining_searched=len(searched))
