"""Where partitions stand, read without joining any group: their numbers, first and end offsets, the offset at a
time, and a group's committed offsets (with the done-bitmap metadata). Lag, status, the DLQ tools and replay
planning read them here, over one admin client and one consumer opened together and closed together.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from types import TracebackType

from aiokafka import TopicPartition
from aiokafka.errors import KafkaError
from aiokafka.structs import OffsetAndMetadata

from ticket_enricher.consumers.engine.clients import KafkaClients, close, started


class Positions:
    """`async with Positions(clients, "lag") as at: await at.ends(await at.partitions([topic]))`."""

    def __init__(self, clients: KafkaClients, role: str) -> None:
        self._clients = clients
        self._role = role

    async def __aenter__(self) -> Positions:
        self._admin = await started(self._clients.admin(self._role))
        try:  # made only now: a client made and never stopped is "unclosed", even if it never started
            self._consumer = await started(self._clients.consumer(self._role))
        except BaseException:
            await close(self._admin)
            raise
        return self

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None,
                        trace: TracebackType | None) -> None:
        try:
            await close(self._consumer)
        finally:
            await close(self._admin)

    async def partitions(self, topics: Iterable[str]) -> list[TopicPartition]:
        """Every partition of the `topics` that exist, in topic then partition order, as the broker has them now
        (a consumer without a subscription may not know a topic's metadata yet)."""
        wanted = list(dict.fromkeys(topics))
        described = {d["topic"]: d for d in await self._admin.describe_topics(wanted)
                     if d.get("error_code", 0) == 0}
        return [TopicPartition(topic, p["partition"]) for topic in wanted if topic in described
                for p in sorted(described[topic].get("partitions", []), key=lambda p: p["partition"])]

    async def beginnings(self, partitions: list[TopicPartition]) -> dict[TopicPartition, int]:
        offsets: dict[TopicPartition, int] = await self._consumer.beginning_offsets(partitions)
        return offsets

    async def ends(self, partitions: list[TopicPartition]) -> dict[TopicPartition, int]:
        offsets: dict[TopicPartition, int] = await self._consumer.end_offsets(partitions)
        return offsets

    async def at_time(self, partitions: list[TopicPartition], epoch_ms: int) -> dict[TopicPartition, int | None]:
        """The first offset at or after `epoch_ms` of each partition; None where every record is older."""
        found = await self._consumer.offsets_for_times({tp: epoch_ms for tp in partitions})
        return {tp: (found[tp].offset if found.get(tp) is not None else None) for tp in partitions}

    async def committed(self, group: str, partitions: list[TopicPartition],
                        patience: float = 0.0) -> dict[TopicPartition, OffsetAndMetadata]:
        """What `group` committed (offset and metadata); a partition it never committed is missing or has offset
        -1. For up to `patience` seconds, a broker still electing the group's coordinator is waited for."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + patience
        while True:
            try:
                committed: dict[TopicPartition, OffsetAndMetadata] = await self._admin.list_consumer_group_offsets(
                    group, partitions=partitions)
                return committed
            except KafkaError as error:
                if not error.retriable or loop.time() > deadline:
                    raise
                await asyncio.sleep(0.5)
