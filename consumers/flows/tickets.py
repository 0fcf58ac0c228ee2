"""The ticket flow: decode → the enrichment service (`agents.enrichment`) → publish the enriched account event.
Thin on purpose: the privacy gate, "already done" and the agent live on the agents side.

Acknowledgement: the record's offset is committed only after `handle` returns, i.e. after the outcome, the
delay-tier copy or the dead-letter copy is acknowledged by the broker. A crash at any line before that leaves the
offset uncommitted and the record is redelivered; the agent's writes are idempotent per `event_id`, so that is
harmless. The same flow handles records from the input topic, from its own delay tiers when due, and from
replays; what it knows of a record's past (attempts, where it first arrived) comes from
`consumers.flows.provenance`, which trusts a header only on a topic the worker alone writes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from ticket_enricher.agents.enrichment import Enriched, Enrichment
from ticket_enricher.agents.planners import LIVE, Outcome, RunOptions
from ticket_enricher.config.routes import Route
from ticket_enricher.consumers import metrics
from ticket_enricher.consumers.engine.publishing import Publisher
from ticket_enricher.consumers.engine.records import Record
from ticket_enricher.consumers.flows.decode import decode_ticket_event
from ticket_enricher.consumers.flows.failures import Failures
from ticket_enricher.consumers.flows.provenance import Provenance
from ticket_enricher.core.errors import ForgedProvenance, InvalidEvent, UnknownEventType
from ticket_enricher.core.events import EnrichedAccountEvent, ModelCost, TicketEvent

log = logging.getLogger("ticket_enricher.tickets")

Handled = Literal["processed", "skipped", "forgotten", "delayed", "dead_lettered", "already_done",
                  "would_process", "would_dead_letter"]


@dataclass(frozen=True)
class FlowResult:
    status: Handled
    enriched: EnrichedAccountEvent | None = None


class TicketFlow:
    def __init__(self, *, enrichment: Enrichment, publisher: Publisher, failures: Failures, enriched_topic: str,
                 max_message_bytes: int) -> None:
        self.enrichment = enrichment
        self.publisher = publisher
        self.failures = failures
        self.enriched_topic = enriched_topic
        self.max_message_bytes = max_message_bytes

    @property
    def route(self) -> Route:
        return self.failures.route

    @property
    def whole_batches(self) -> bool:
        """Whether the engine should hand over whole fetches (the planner writes batches) or records one by one."""
        return self.enrichment.whole_batches

    def revoked(self) -> None:
        """The group moved partitions away: what the enrichment service cached of their accounts is stale."""
        self.enrichment.release()

    async def handle(self, record: Record, provenance: Provenance) -> Handled:
        """One record. Raises only if publishing its outcome fails: then it is retried in place."""
        return (await self.process([(record, provenance)]))[0].status

    async def process(self, items: list[tuple[Record, Provenance]], options: RunOptions = LIVE) -> list[FlowResult]:
        """Records with what is known of their past, in order: decoded, judged by one call of the enrichment
        service (one store transaction for a planner that writes batches), and every outcome and copy published,
        all before it returns. One event's failure takes its own path (a delay tier or the DLQ); a failure of
        the whole batch (the store) raises and the batch is retried in place, unless the batch is that one
        event. Lines about single events are logged at INFO for a batch of one, else at DEBUG with one line per
        batch at INFO."""
        results: list[FlowResult | None] = [None] * len(items)
        judged: list[tuple[int, TicketEvent]] = []
        for i, (record, provenance) in enumerate(items):
            decoded = await self._decode(record, provenance, options.dry_run)
            if isinstance(decoded, FlowResult):
                results[i] = decoded
            else:
                judged.append((i, decoded))
        level = logging.INFO if len(items) == 1 else logging.DEBUG
        outcomes: list[Enriched | Exception]
        try:
            outcomes = await self.enrichment.enrich([event for _, event in judged], options) if judged else []
        except Exception as error:
            if len(judged) != 1:
                raise
            outcomes = [error]
        sends: list[tuple[str, bytes | None, bytes | None, list[tuple[str, bytes]]]] = []
        counted: list[Outcome] = []
        for (i, event), result in zip(judged, outcomes, strict=True):
            record, provenance = items[i]
            where = {"partition": record.partition, "offset": record.offset, "event_id": event.event_id,
                     "account_id": event.account_id, "ticket_id": event.ticket.id}
            if isinstance(result, Exception):
                results[i] = FlowResult(await self.failures.failed(record, provenance, result, where))
                continue
            if result.status == "forgotten":
                metrics.EVENTS_FORGOTTEN.inc()
                log.log(level, "skipped: its subject was forgotten", extra=where)
            if result.outcome is None:
                results[i] = FlowResult(result.status)
                continue
            enriched = _enriched(event, result.outcome)
            sends.append((self.enriched_topic, enriched.model_dump_json().encode(), event.account_id.encode(),
                          _JSON))
            counted.append(result.outcome)
            results[i] = FlowResult("processed", enriched)
            log.log(level, "enriched: +%s -%s", result.outcome.tags_added, result.outcome.tags_removed,
                    extra=where)
        await self.publisher.send_many(sends)  # every outcome acknowledged before the batch counts as done
        _count(counted)
        done = [r for r in results if r is not None]
        if judged and level != logging.INFO:
            log.info("batch of %d: %d enriched, %d tags changed", len(items),
                     sum(r.status == "processed" for r in done),
                     sum(len(r.enriched.tags_added) + len(r.enriched.tags_removed) for r in done if r.enriched))
        return done

    async def _decode(self, record: Record, provenance: Provenance, dry_run: bool) -> TicketEvent | FlowResult:
        where = {"partition": record.partition, "offset": record.offset}
        if provenance.forged is not None:
            forged = ForgedProvenance(provenance.forged)
            return FlowResult(await self.failures.dead_letter(record, provenance, forged,
                                                              attempts=provenance.attempts))
        try:
            return decode_ticket_event(record, self.max_message_bytes)
        except UnknownEventType as skip:
            metrics.EVENTS_SKIPPED.labels(skip.event_type[:64]).inc()
            log.info("skipped event of unknown type %r", skip.event_type[:64], extra=where)
            return FlowResult("skipped")
        except InvalidEvent as invalid:
            if dry_run:
                return FlowResult("would_dead_letter")
            return FlowResult(await self.failures.dead_letter(record, provenance, invalid,
                                                              attempts=provenance.attempts + 1))


_JSON = [("content-type", b"application/json")]


def _enriched(event: TicketEvent, outcome: Outcome) -> EnrichedAccountEvent:
    """The output event (validated all the same: pydantic-core validates faster than `model_construct` builds)."""
    return EnrichedAccountEvent(
        event_id=event.event_id, account_id=event.account_id, ticket_id=event.ticket.id,
        tags=outcome.tags, tags_added=outcome.tags_added, tags_removed=outcome.tags_removed,
        memory_ids=outcome.memory_ids, evidence=outcome.evidence, planner=outcome.planner,
        processed_at=datetime.now(UTC), cost=_cost(outcome),
    )


def _cost(outcome: Outcome) -> ModelCost | None:
    if not outcome.by_model:
        return None
    usage = outcome.usage
    return ModelCost(model_calls=usage.calls, replayed_turns=outcome.replayed_turns, input_tokens=usage.input_tokens,
                     cached_input_tokens=usage.cached_input_tokens, output_tokens=usage.output_tokens,
                     cost_usd=outcome.cost_usd)


def _count(outcomes: list[Outcome]) -> None:
    """The metrics of a batch's outcomes, one increment per series (not one per event)."""
    if not outcomes:
        return
    by_planner: dict[str, list[Outcome]] = {}
    for outcome in outcomes:
        by_planner.setdefault(outcome.planner, []).append(outcome)
    for planner, some in by_planner.items():  # tokens, cost and call durations: per call, as they are paid
        metrics.EVENTS_PROCESSED.labels(planner).inc(len(some))
        calls = sum(o.tool_calls for o in some)
        if calls:
            metrics.MODEL_TOOL_CALLS.labels(planner).inc(calls)
        replayed = sum(o.replayed_turns for o in some)
        if replayed:
            metrics.MODEL_TURNS_REPLAYED.labels(planner).inc(replayed)
    changed: dict[tuple[str, str], int] = {}
    for outcome in outcomes:
        for tag in outcome.tags_added:
            changed[(tag, "set")] = changed.get((tag, "set"), 0) + 1
        for tag in outcome.tags_removed:
            changed[(tag, "cleared")] = changed.get((tag, "cleared"), 0) + 1
    for (tag, change), n in changed.items():
        metrics.TAGS_CHANGED.labels(tag, change).inc(n)
