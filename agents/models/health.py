"""The model breaker's state as every member last saw it, kept in the memory store the members share, so that
`ticket-enricher status` (a process of its own) can say which members hold model work and why.

One entry per member (its Kafka client id) under the reserved ledger `agent_id` (`memory.tombstones`), no account
data in it: `state` (open or closed), `since`, `reason` (the last failure, e.g. "HTTP 503"). A member writes it when
its breaker opens or closes, in the background: the breaker's own decision never waits for the store.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from pydantic import JsonValue

from ticket_enricher.memory.batch import NewMemory, write_batch
from ticket_enricher.memory.filters import Cond, all_of, scope
from ticket_enricher.memory.store import EntityScope, MemoryStore, list_all
from ticket_enricher.memory.tombstones import LEDGER_AGENT

HEALTH_KIND = "model_health"
log = logging.getLogger("ticket_enricher.model")


@dataclass(frozen=True)
class MemberHealth:
    member: str
    state: str  # "open" (model work held) or "closed"
    since: str
    reason: str


class HealthLedger:
    """Writes this member's breaker changes (`changed`, a breaker `on_change` callback) to the store."""

    def __init__(self, store: MemoryStore, member: str) -> None:
        self.store = store
        self.member = member
        self._tasks: set[asyncio.Task[None]] = set()

    def changed(self, is_open: bool, reason: str) -> None:
        try:
            task = asyncio.get_running_loop().create_task(self._write(is_open, reason))
        except RuntimeError:  # no loop (a breaker driven outside the worker): nothing to record
            return
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _write(self, is_open: bool, reason: str) -> None:
        metadata: dict[str, JsonValue] = {
            "kind": HEALTH_KIND, "member": self.member, "state": "open" if is_open else "closed",
            "since": datetime.now(UTC).isoformat(), "reason": reason[:300]}
        entry = NewMemory(f"model health of {self.member}", EntityScope(agent_id=LEDGER_AGENT),
                          f"{HEALTH_KIND}:{self.member}", metadata, merge_if_exists=True)
        try:
            await write_batch(self.store, [entry], [])
        except Exception as error:  # noqa: BLE001 - the metric and /readyz still say it; status may lag
            log.warning("could not record the model breaker's state: %s", error)

    async def flush(self) -> None:
        """Wait for the writes in flight (the lifespan, before it closes the store)."""
        await asyncio.gather(*self._tasks, return_exceptions=True)


async def read_health(store: MemoryStore) -> list[MemberHealth]:
    """Every member's last recorded breaker state, open ones first."""
    entries = await list_all(store, filters=all_of(scope(agent_id=LEDGER_AGENT),
                                                   Cond("metadata", "eq", HEALTH_KIND, key="kind")))
    found = [MemberHealth(str(m.metadata.get("member")), str(m.metadata.get("state")),
                          str(m.metadata.get("since")), str(m.metadata.get("reason") or "")) for m in entries]
    return sorted(found, key=lambda h: (h.state != "open", h.member))
