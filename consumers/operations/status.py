"""What an operator sees at a glance: the groups' members and assignments, lag, delay-tier and DLQ depths.

Group members come from DescribeGroups v0-v2, sent through aiokafka's client directly: aiokafka 0.14 negotiates
v3 with current brokers but decodes the answer with the v2 schema (no `authorized_operations`), which fails.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.coordinator.protocol import ConsumerProtocol
from aiokafka.protocol.admin import DescribeGroupsRequest_v0, DescribeGroupsRequest_v1, DescribeGroupsRequest_v2
from aiokafka.protocol.api import Request

from ticket_enricher.config.settings import Settings
from ticket_enricher.consumers.engine.connection import client_options
from ticket_enricher.consumers.operations.lag import PartitionLag, group_lag


class _DescribeGroups(Request[DescribeGroupsRequest_v0 | DescribeGroupsRequest_v1 | DescribeGroupsRequest_v2]):
    API_KEY = 15

    def __init__(self, groups: list[str]) -> None:
        self._groups = groups

    def build(self, request_struct_class: Any) -> Any:
        return request_struct_class(self._groups)


@dataclass(frozen=True)
class Member:
    client_id: str
    host: str
    partitions: list[str]


@dataclass(frozen=True)
class GroupStatus:
    group: str
    state: str
    members: list[Member]
    lag: list[PartitionLag]

    @property
    def total_lag(self) -> int:
        return sum(p.lag for p in self.lag)


@dataclass
class Status:
    groups: list[GroupStatus] = field(default_factory=list)
    dlq_depths: dict[str, int] = field(default_factory=dict)  # dead-letter topic -> records (end minus start)

    @property
    def dlq_depth(self) -> int:
        return sum(self.dlq_depths.values())

    def as_json(self) -> dict[str, object]:
        return {
            "groups": [{"group": g.group, "state": g.state, "total_lag": g.total_lag,
                        "members": [m.__dict__ for m in g.members],
                        "lag": [{"topic": p.topic, "partition": p.partition, "committed": p.committed,
                                 "end": p.end, "lag": p.lag} for p in g.lag]} for g in self.groups],
            "dlq_depth": self.dlq_depth, "dlq_depths": self.dlq_depths,
        }


async def describe_groups(settings: Settings, groups: list[str]) -> dict[str, tuple[str, list[Member]]]:
    admin = AIOKafkaAdminClient(**client_options(settings), client_id=f"{settings.kafka.client_id}-status")
    await admin.start()
    try:
        found: dict[str, tuple[str, list[Member]]] = {}
        for group in groups:
            node = await admin.find_coordinator(group)
            response = await admin._client.send(node, _DescribeGroups([group]))
            for raw in response.groups:
                _, name, state, _, _, members = raw[:6]
                found[name] = (state, [
                    Member(client_id, host.lstrip("/"), sorted(
                        f"{topic}[{p}]" for topic, parts in _partitions(assignment) for p in parts))
                    for _, client_id, host, _, assignment in members
                ])
        return found
    finally:
        await admin.close()


def _partitions(assignment: bytes) -> list[tuple[str, list[int]]]:
    if not assignment:
        return []
    return list(ConsumerProtocol.ASSIGNMENT.decode(assignment).assignment)


async def topic_depth(settings: Settings, topic: str) -> int:
    """Records on `topic` now: end minus start offsets (what retention and purges left)."""
    options = client_options(settings)
    admin = AIOKafkaAdminClient(**options, client_id=f"{settings.kafka.client_id}-status")
    consumer = AIOKafkaConsumer(**options, client_id=f"{settings.kafka.client_id}-status", enable_auto_commit=False)
    await admin.start()
    await consumer.start()
    try:
        parts = [TopicPartition(topic, p["partition"])
                 for d in await admin.describe_topics([topic]) if d["error_code"] == 0 for p in d["partitions"]]
        if not parts:
            return 0
        starts = await consumer.beginning_offsets(parts)
        ends = await consumer.end_offsets(parts)
        return sum(ends[tp] - starts[tp] for tp in parts)
    finally:
        await consumer.stop()
        await admin.close()


def watched_groups(settings: Settings) -> dict[str, list[str]]:
    """Every consumer group of the worker and the topics it reads: each route's input and its tiers."""
    return {g: t for r in settings.routes().all
            for g, t in ((r.group, [r.topic]), (r.tier_group, [t.topic for t in r.tiers]))}


async def status(settings: Settings) -> Status:
    watched = watched_groups(settings)
    described = await describe_groups(settings, list(watched))
    options = client_options(settings)
    result = Status()
    for name, topics in watched.items():
        state, members = described.get(name, ("Dead", []))
        result.groups.append(GroupStatus(name, state, members, await group_lag(options, name, topics)))
    result.dlq_depths = {r.dlq: await topic_depth(settings, r.dlq) for r in settings.routes().all}
    return result
