"""How far a consumer group is behind: committed offset and end offset per partition, read from the broker."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ticket_enricher.consumers.engine.clients import KafkaClients
from ticket_enricher.consumers.engine.positions import Positions


@dataclass(frozen=True)
class PartitionLag:
    topic: str
    partition: int
    committed: int | None  # None: the group never committed here
    end: int

    @property
    def lag(self) -> int:
        return self.end - (self.committed or 0)


async def group_lag(clients: KafkaClients, group_id: str, topics: Iterable[str],
                    role: str = "lag") -> list[PartitionLag]:
    """Lag of `group_id` on every partition of `topics`, without joining the group."""
    async with Positions(clients, role) as at:
        partitions = await at.partitions(topics)
        committed = await at.committed(group_id, partitions)
        ends = await at.ends(partitions)
    return [PartitionLag(tp.topic, tp.partition,
                         committed[tp].offset if tp in committed and committed[tp].offset >= 0 else None,
                         ends[tp]) for tp in partitions]


log = logging.getLogger("ticket_enricher.lag")


class LagMonitor:
    """Reads the lag of the worker's consumer groups every `interval` seconds into a gauge
    (`ticket_enricher_consumer_lag{group,topic,partition}`), and remembers when the broker last answered."""

    def __init__(self, clients: KafkaClients, groups: dict[str, list[str]], interval: float,
                 set_lag: Callable[[str, str, int, int], object]) -> None:
        self.clients = clients
        self.groups = groups
        self.interval = interval
        self.set_lag = set_lag  # (group, topic, partition, lag)
        self.last_ok: float | None = None
        self.last_error = "not read yet"
        self.quiet = False  # failures logged at debug only (the worker is still starting and reports for itself)

    def broker_ok(self) -> bool:
        return self.last_ok is not None and time.monotonic() - self.last_ok < 3 * self.interval

    async def refresh(self) -> None:
        try:
            for group, topics in self.groups.items():
                for p in await group_lag(self.clients, group, topics):
                    self.set_lag(group, p.topic, p.partition, p.lag)
        except Exception as error:  # reported by /readyz; the next round tries again
            self.last_error = f"{type(error).__name__}: {error}"[:300]
            log.log(logging.DEBUG if self.quiet else logging.WARNING, "could not read consumer lag: %s",
                    self.last_error)
            return
        self.last_ok = time.monotonic()

    async def run(self) -> None:
        while True:
            await self.refresh()
            await asyncio.sleep(self.interval)
