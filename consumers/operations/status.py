"""What an operator sees at a glance: the groups' members and assignments, lag, delay-tier and DLQ depths.

Group members come from DescribeGroups v0-v2 (`consumers.engine.raw_requests` says why not aiokafka's own method).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from aiokafka.coordinator.protocol import ConsumerProtocol

from ticket_enricher.agents.factory import budget_limits
from ticket_enricher.agents.models.health import MemberHealth, read_health
from ticket_enricher.config.settings import Settings
from ticket_enricher.consumers.engine.clients import KafkaClients, opened
from ticket_enricher.consumers.engine.positions import Positions
from ticket_enricher.consumers.engine.raw_requests import describe_group
from ticket_enricher.consumers.operations.lag import PartitionLag, group_lag
from ticket_enricher.core.budget import Standing, standing
from ticket_enricher.memory.budget_ledger import open_ledger
from ticket_enricher.memory.factory import open_store


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
    model: list[MemberHealth] = field(default_factory=list)  # each member's model breaker, as it last recorded it
    budget: Standing | None = None  # the shared model budget, when a limit is set

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
            "model": [h.__dict__ for h in self.model],
            "budget": self.budget.as_json() if self.budget is not None else None,
        }


async def describe_groups(settings: Settings, groups: list[str]) -> dict[str, tuple[str, list[Member]]]:
    found: dict[str, tuple[str, list[Member]]] = {}
    async with opened(KafkaClients.from_settings(settings).admin("status")) as admin:
        for group in groups:
            for raw in await describe_group(admin, group):
                _, name, state, _, _, members = raw[:6]
                found[name] = (state, [
                    Member(client_id, host.lstrip("/"), sorted(
                        f"{topic}[{p}]" for topic, parts in _partitions(assignment) for p in parts))
                    for _, client_id, host, _, assignment in members
                ])
    return found


def _partitions(assignment: bytes) -> list[tuple[str, list[int]]]:
    if not assignment:
        return []
    return list(ConsumerProtocol.ASSIGNMENT.decode(assignment).assignment)


async def topic_depth(clients: KafkaClients, topic: str) -> int:
    """Records on `topic` now: end minus start offsets (what retention and purges left)."""
    async with Positions(clients, "status") as at:
        parts = await at.partitions([topic])
        if not parts:
            return 0
        starts = await at.beginnings(parts)
        ends = await at.ends(parts)
    return sum(ends[tp] - starts[tp] for tp in parts)


def watched_groups(settings: Settings) -> dict[str, list[str]]:
    """Every consumer group of the worker and the topics it reads: each route's input and its tiers."""
    return {g: t for r in settings.routes().all
            for g, t in ((r.group, [r.topic]), (r.tier_group, [t.topic for t in r.tiers]))}


async def status(settings: Settings) -> Status:
    watched = watched_groups(settings)
    described = await describe_groups(settings, list(watched))
    clients = KafkaClients.from_settings(settings)
    result = Status()
    for name, topics in watched.items():
        state, members = described.get(name, ("Dead", []))
        result.groups.append(GroupStatus(name, state, members, await group_lag(clients, name, topics, "status")))
    result.dlq_depths = {r.dlq: await topic_depth(clients, r.dlq) for r in settings.routes().all}
    if settings.model.name:
        store = open_store(settings)
        try:
            result.model = await read_health(store)
        finally:
            await store.close()
    limits = budget_limits(settings, replay=True)
    if limits.any:
        ledger = open_ledger(settings)
        try:
            result.budget = await standing(ledger, settings.budget.name or settings.kafka.group_id, limits, time.time())
        finally:
            await ledger.close()
    return result
