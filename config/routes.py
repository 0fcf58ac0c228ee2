"""Routes: which flow reads which topic, in which consumer group, with which delay tiers, dead-letter topic and
attempt limit (Karafka's routing table). Built once, when the settings are validated (`Settings.routes()` returns
that one table), and so checked at start; every topic and group name the worker uses comes from here. This module
imports nothing of the settings: they import it.

A record's flow is decided by the topic it was read from, never by a header: each flow has delay tiers of its own
(`<topic>.delay.<N>s`), so a ticket can only ever reach the ticket flow, and the deletion flow only ever sees
records read from `privacy.deletion-requests` and its own tiers.

    flow       reads (group)                                   its tiers (group)                      dead letters
    tickets    support.tickets (<group_id>)                    support.tickets.delay.Ns (.delays)     support.tickets.dlq
    deletions  privacy.deletion-requests (<group_id>.privacy)  privacy.deletion-requests.delay.Ns (…)  ….dlq
"""  # noqa: E501 (the table's tickets row is 121 columns)

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

FlowName = Literal["tickets", "deletions"]


@dataclass(frozen=True)
class Tier:
    topic: str
    seconds: int


@dataclass(frozen=True)
class Route:
    flow: FlowName
    topic: str  # where the flow's input arrives
    group: str  # the consumer group that reads it
    tiers: tuple[Tier, ...]  # smallest delay first
    tier_group: str  # the consumer group that reads the tiers
    dlq: str
    max_attempts: int | None  # None: retried for as long as it takes (a deletion request is never dropped)
    max_wait_seconds: float  # the longest a server's wait is honoured, in the largest tier

    def tier_of(self, topic: str) -> Tier | None:
        return next((t for t in self.tiers if t.topic == topic), None)

    def tier_for(self, wait_seconds: float) -> Tier:
        """The smallest tier at least as long as the wait (the largest when none is)."""
        return next((t for t in self.tiers if t.seconds >= wait_seconds), self.tiers[-1])

    def delay_for(self, wait_seconds: float) -> tuple[Tier, float]:
        """Where a record that must wait `wait_seconds` goes, and after how long it is due: the wait cut to
        `max_wait_seconds`, in the smallest tier at least that long, due after the tier's delay or the wait,
        whichever is longer (`consumers.flows.policy` sends it; `core.budget` parks its account that long)."""
        wait = min(wait_seconds, self.max_wait_seconds)
        tier = self.tier_for(wait)
        return tier, max(float(tier.seconds), wait)

    def longest_wait_seconds(self, tier: Tier) -> float:
        """How long a record may rightly wait in `tier`: its delay, or up to `max_wait_seconds` in the largest."""
        return max(float(tier.seconds), self.max_wait_seconds) if tier == self.tiers[-1] else float(tier.seconds)

    @property
    def topics(self) -> list[str]:
        return [self.topic, *(t.topic for t in self.tiers), self.dlq]


@dataclass(frozen=True)
class Routes:
    tickets: Route
    deletions: Route
    enriched: str  # the ticket flow's output
    deletion_completed: str  # the deletion flow's output
    replay_prefix: str  # replays run in groups "<replay_prefix><since>-<until>", never in a live group

    @property
    def all(self) -> tuple[Route, ...]:
        return (self.tickets, self.deletions)

    @property
    def live_groups(self) -> list[str]:
        return [g for r in self.all for g in (r.group, r.tier_group)]

    @property
    def inputs(self) -> list[str]:
        """Topics producers outside the worker write to: provenance headers found there are not ours."""
        return [r.topic for r in self.all]

    def topic_names(self) -> list[str]:
        return [self.tickets.topic, self.enriched, self.tickets.dlq, self.deletions.topic, self.deletion_completed,
                self.deletions.dlq, *(t.topic for r in self.all for t in r.tiers)]

    def by_dlq(self, topic: str) -> Route | None:
        return next((r for r in self.all if r.dlq == topic), None)

    def replay_group(self, since: datetime, until: datetime | None) -> str:
        end = f"{until:%Y%m%dT%H%M%SZ}" if until is not None else "end"
        return f"{self.replay_prefix}{since:%Y%m%dT%H%M%SZ}-{end}"


def legal_topic(name: str) -> str:
    """`name` when Kafka accepts it as a topic name, else ValueError."""
    allowed = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
    if not name or len(name) > 249 or set(name) - allowed or name in {".", ".."}:
        raise ValueError(f"{name!r} is not a legal Kafka topic name")
    return name


def build_routes(*, group: str, tickets: str, enriched: str, dlq: str, deletion_requests: str,
                 deletion_completed: str, deletion_dlq: str, ticket_tiers: Sequence[int],
                 deletion_tiers: Sequence[int], max_attempts: int, max_wait_seconds: float) -> Routes:
    """The routing table (`Settings.routes()` holds the one built from the settings); raises ValueError when two
    roles would share a topic or a name is illegal. `deletion_dlq` empty: "<deletion_requests>.dlq"."""

    def tiers(source: str, seconds: Sequence[int]) -> tuple[Tier, ...]:
        return tuple(Tier(legal_topic(f"{source}.delay.{s}s"), s) for s in seconds)

    routes = Routes(
        tickets=Route("tickets", tickets, group, tiers(tickets, ticket_tiers), f"{group}.delays", dlq, max_attempts,
                      max_wait_seconds),
        deletions=Route("deletions", deletion_requests, f"{group}.privacy", tiers(deletion_requests, deletion_tiers),
                        f"{group}.privacy.delays", legal_topic(deletion_dlq or f"{deletion_requests}.dlq"), None,
                        max_wait_seconds),
        enriched=enriched, deletion_completed=deletion_completed, replay_prefix=f"{group}.replay.",
    )
    names = routes.topic_names()
    shared = sorted({n for n in names if names.count(n) > 1})
    if shared:
        raise ValueError(f"each topic has one role (input, output, tier or dead letters); shared: {', '.join(shared)}")
    return routes
