"""Operating the dead-letter topics: list and show what is there, redrive it to where it came from, purge it.

Each flow has its own dead-letter topic (`config.routes`), and a dead letter goes back to the input topic of the
route whose DLQ it was read from: never to a topic a header names. Reads take a snapshot of the end offsets first
and stop there, without joining any consumer group. Redrive sends the original key, value and producer headers
back without any x-retry-* or x-dlq-* header (a fresh attempt count) plus `x-redriven-from` (which the worker then
counts as a provenance header on an input topic, and ignores); redriving twice is harmless because processing is
idempotent. Purge deletes records from the start of each partition up to a cut (Kafka cannot delete single
records): everything, or everything older than `--before`.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime

from aiokafka import TopicPartition
from aiokafka.admin import RecordsToDelete

from ticket_enricher.config.routes import Route
from ticket_enricher.config.settings import Settings
from ticket_enricher.consumers.engine.clients import KafkaClients, opened
from ticket_enricher.consumers.engine.positions import Positions
from ticket_enricher.consumers.engine.publishing import Publisher
from ticket_enricher.consumers.engine.records import Record
from ticket_enricher.consumers.flows.provenance import producer_headers

_ROLE = "dlq-tools"


@dataclass(frozen=True)
class DeadLetter:
    record: Record
    route: Route  # the flow whose dead-letter topic it was read from

    @property
    def reason(self) -> str:
        return self.record.header("x-dlq-reason") or "?"

    @property
    def account(self) -> str:
        return (self.record.key or b"").decode("utf-8", "replace")

    @property
    def failed_at(self) -> datetime:
        stamp = self.record.header("x-dlq-failed-at")
        return datetime.fromtimestamp(int(stamp) / 1000 if stamp else self.record.timestamp_ms / 1000).astimezone()

    @property
    def event_id(self) -> str | None:
        try:
            payload = json.loads(self.record.value or b"")
        except (UnicodeDecodeError, json.JSONDecodeError):
            return None
        return str(payload.get("event_id")) if isinstance(payload, dict) and "event_id" in payload else None

    def summary(self) -> dict[str, object]:
        return {
            "flow": self.route.flow, "topic": self.record.topic, "partition": self.record.partition,
            "offset": self.record.offset, "reason": self.reason,
            "account": self.account, "event_id": self.event_id, "failed_at": self.failed_at.isoformat(),
            "attempts": self.record.header("x-dlq-attempts"), "error": (self.record.header("x-dlq-error") or "")[:200],
            "original": f"{self.record.header('x-dlq-original-topic')}/{self.record.header('x-dlq-original-partition')}"
                        f"@{self.record.header('x-dlq-original-offset')}",
        }


@dataclass(frozen=True)
class Selection:
    reason: str | None = None
    account: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    flow: str | None = None  # tickets or deletions; None: both

    def routes(self, settings: Settings) -> list[Route]:
        return [r for r in settings.routes().all if self.flow is None or r.flow == self.flow]

    def matches(self, letter: DeadLetter) -> bool:
        return ((self.reason is None or letter.reason == self.reason)
                and (self.account is None or letter.account == self.account)
                and (self.since is None or letter.failed_at >= self.since)
                and (self.until is None or letter.failed_at < self.until))


async def read_dead_letters(settings: Settings, selection: Selection = Selection()) -> AsyncIterator[DeadLetter]:
    routes = {r.dlq: r for r in selection.routes(settings)}
    clients = KafkaClients.from_settings(settings)
    async with Positions(clients, _ROLE) as at:
        tps = await at.partitions(routes)
        if not tps:
            return
        starts = await at.beginnings(tps)
        ends = await at.ends(tps)
    async with opened(clients.consumer(_ROLE)) as consumer:
        consumer.assign(tps)
        for tp in tps:
            consumer.seek(tp, starts[tp])
        remaining = {tp for tp in tps if ends[tp] > starts[tp]}
        while remaining:
            batches = await consumer.getmany(*remaining, timeout_ms=1000)
            for tp, records in batches.items():
                for r in records:
                    if r.offset >= ends[tp]:
                        continue
                    letter = DeadLetter(Record.from_kafka(r), routes[tp.topic])
                    if selection.matches(letter):
                        yield letter
            for tp in list(remaining):
                if await consumer.position(tp) >= ends[tp]:
                    remaining.discard(tp)


async def redrive(publisher: Publisher, letter: DeadLetter) -> str:
    """Send one dead letter back to its route's input topic with a fresh attempt count; returns that topic."""
    origin = f"{letter.record.topic}:{letter.record.partition}:{letter.record.offset}".encode()
    await publisher.send(letter.route.topic, value=letter.record.value, key=letter.record.key,
                         headers=producer_headers(letter.record) + [("x-redriven-from", origin)])
    return letter.route.topic


async def purge(settings: Settings, *, before: datetime | None, dry_run: bool,
                flow: str | None = None) -> dict[TopicPartition, int]:
    """Delete dead letters older than `before` (all when None); returns records deleted (or to delete) a partition."""
    clients = KafkaClients.from_settings(settings)
    async with Positions(clients, _ROLE) as at:
        tps = await at.partitions([r.dlq for r in Selection(flow=flow).routes(settings)])
        starts = await at.beginnings(tps)
        cuts = await at.ends(tps)
        if before is not None:
            found = await at.at_time(tps, int(before.timestamp() * 1000))
            cuts = {tp: (cut if (cut := found[tp]) is not None else cuts[tp]) for tp in tps}
    counts = {tp: max(0, cuts[tp] - starts[tp]) for tp in tps}
    if not dry_run and any(counts.values()):
        async with opened(clients.admin(_ROLE)) as admin:
            await admin.delete_records({tp: RecordsToDelete(cuts[tp]) for tp in tps if counts[tp]})
    return counts
