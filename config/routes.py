"""Routes: which flow reads which topic, in which consumer group, with which delay tiers, dead-letter topic and
attempt limit (Karafka's routing table). Built once from the settings and checked at start; every topic and group
name the worker uses comes from here.

A record's flow is decided by the topic it was read from, never by a header: each flow has delay tiers of its own
(`<topic>.delay.<N>s`), so a ticket can only ever reach the ticket flow, and the deletion flow only ever sees
records read from `privacy.deletion-requests` and its own tiers.

    flow       reads (group)                                   its tiers (group)                      dead letters
    tickets    support.tickets (<group_id>)                    support.tickets.delay.Ns (.delays)     support.tickets.dlq
    deletions  privacy.deletion-requests (<group_id>.privacy)  privacy.deletion-requests.delay.Ns (…)  ….dlq
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from ticket_enricher.config.settings import Settings

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


def build_routes(settings: Settings) -> Routes:
    """The routing table of `settings`; raises ValueError when two roles would share a topic or a name is illegal."""
    from ticket_enricher.config.settings import legal_topic

    topics, group = settings.topics, settings.kafka.group_id

    def tiers(source: str, seconds: list[int]) -> tuple[Tier, ...]:
        return tuple(Tier(legal_topic(f"{source}.delay.{s}s"), s) for s in seconds)

    routes = Routes(
        tickets=Route("tickets", topics.tickets, group, tiers(topics.tickets, settings.retry.tiers_seconds),
                      f"{group}.delays", topics.dlq, settings.retry.max_attempts, settings.retry.max_wait_seconds),
        deletions=Route("deletions", topics.deletion_requests, f"{group}.privacy",
                        tiers(topics.deletion_requests, settings.privacy.tiers_seconds), f"{group}.privacy.delays",
                        legal_topic(topics.deletion_dlq or f"{topics.deletion_requests}.dlq"), None,
                        settings.retry.max_wait_seconds),
        enriched=topics.enriched, deletion_completed=topics.deletion_completed, replay_prefix=f"{group}.replay.",
    )
    names = routes.topic_names()
    shared = sorted({n for n in names if names.count(n) > 1})
    if shared:
        raise ValueError(f"each topic has one role (input, output, tier or dead letters); shared: {', '.join(shared)}")
    return routes
