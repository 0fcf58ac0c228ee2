"""How far a consumer group is behind: committed offset and end offset per partition, read from the broker."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient


@dataclass(frozen=True)
class PartitionLag:
    topic: str
    partition: int
    committed: int | None  # None: the group never committed here
    end: int

    @property
    def lag(self) -> int:
        return self.end - (self.committed or 0)


async def group_lag(bootstrap_servers: str, group_id: str, topics: Iterable[str],
                    client_id: str = "ticket-enricher-lag") -> list[PartitionLag]:
    """Lag of `group_id` on every partition of `topics`, without joining the group."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, client_id=client_id)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, client_id=client_id,
                                enable_auto_commit=False)
    await admin.start()
    await consumer.start()
    try:
        partitions = [TopicPartition(d["topic"], p["partition"])
                      for d in await admin.describe_topics(list(topics)) if d["error_code"] == 0
                      for p in sorted(d["partitions"], key=lambda p: p["partition"])]
        committed = await admin.list_consumer_group_offsets(group_id, partitions=partitions)
        ends = await consumer.end_offsets(partitions)
        return [PartitionLag(tp.topic, tp.partition,
                             committed[tp].offset if tp in committed and committed[tp].offset >= 0 else None,
                             ends[tp]) for tp in partitions]
    finally:
        await consumer.stop()
        await admin.close()
