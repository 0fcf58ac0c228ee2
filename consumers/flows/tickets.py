"""The ticket flow: decode → forgotten? → agent → publish the enriched account event. Thin on purpose.

Acknowledgement: the record's offset is committed only after `handle` returns, i.e. after the outcome, the
delay-tier copy or the dead-letter copy is acknowledged by the broker. A crash at any line before that leaves the
offset uncommitted and the record is redelivered; the agent's writes are idempotent per `event_id`, so that is
harmless. The same flow handles records from the input topic and, when due, from its own delay tiers; what it
knows of a record's past (attempts, where it first arrived) comes from `consumers.flows.provenance`, which trusts a
header only on a topic the worker alone writes.

Privacy: an event whose account or requester has a tombstone (see `memory.tombstones`) is a no-op, however
old it is and however it arrives (live, retried, replayed). Before the agent runs, the (requester, account)
pair is indexed so that a deletion of the requester finds this account.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from agents.loop import Agent
from config.routes import Route
from config.settings import Settings
from consumers import metrics
from consumers.flows.decode import decode_ticket_event
from consumers.flows.dlq import dead_letter
from consumers.flows.policy import decide
from consumers.flows.provenance import RETRY, Provenance, Signer, delay_headers
from consumers.engine.publishing import Publisher, send_copy
from consumers.engine.records import Record
from core.errors import ForgedProvenance, InvalidEvent, PermanentFailure, RateLimited, UnknownEventType
from core.events import EnrichedAccountEvent, TicketEvent
from memory.tombstones import SubjectIndex, Tombstones, subject_hash

log = logging.getLogger("ticket_enricher.tickets")

Handled = Literal["processed", "skipped", "forgotten", "delayed", "dead_lettered"]


@dataclass(frozen=True)
class FlowResult:
    status: Handled
    enriched: EnrichedAccountEvent | None = None


def subject_hashes(event: TicketEvent) -> list[str]:
    hashes = [subject_hash("account", event.account_id)]
    if event.ticket.requester is not None:
        hashes.append(subject_hash("user", event.ticket.requester.id))
    return hashes


class TicketFlow:
    def __init__(self, *, agent: Agent, publisher: Publisher, settings: Settings,
                 signer: Signer | None = None) -> None:
        self.agent = agent
        self.publisher = publisher
        self.settings = settings
        self.route: Route = settings.routes().tickets
        self.signer = signer
        self.tombstones = Tombstones(agent.store)
        self.subjects = SubjectIndex(agent.store)

    async def handle(self, record: Record, provenance: Provenance) -> Handled:
        """Process one record. Raises only if publishing its outcome fails: then it is redelivered."""
        return (await self.process(record, provenance)).status

    async def process(self, record: Record, provenance: Provenance) -> FlowResult:
        """`handle`, with the enriched event when one was published."""
        where = {"partition": record.partition, "offset": record.offset}
        if provenance.forged is not None:
            return FlowResult(await self._dead_letter(record, provenance, ForgedProvenance(provenance.forged),
                                                      attempts=provenance.attempts))
        try:
            event = decode_ticket_event(record, self.settings.worker.max_message_bytes)
        except UnknownEventType as skip:
            metrics.EVENTS_SKIPPED.labels(skip.event_type[:64]).inc()
            log.info("skipped event of unknown type %r", skip.event_type[:64], extra=where)
            return FlowResult("skipped")
        except InvalidEvent as invalid:
            return FlowResult(await self._dead_letter(record, provenance, invalid,
                                                      attempts=provenance.attempts + 1))
        where |= {"event_id": event.event_id, "account_id": event.account_id, "ticket_id": event.ticket.id}
        try:
            if await self.tombstones.forgotten(subject_hashes(event)):
                metrics.EVENTS_FORGOTTEN.inc()
                log.info("skipped: its subject was forgotten", extra=where)
                return FlowResult("forgotten")
            if event.ticket.requester is not None:
                await self.subjects.record(event.ticket.requester.id, event.account_id)
            outcome = await self.agent.run(event)
        except Exception as error:
            return FlowResult(await self._failed(record, provenance, error, where))
        enriched = EnrichedAccountEvent(
            event_id=event.event_id, account_id=event.account_id, ticket_id=event.ticket.id,
            tags=outcome.tags, tags_added=outcome.tags_added, tags_removed=outcome.tags_removed,
            memory_ids=outcome.memory_ids, evidence=outcome.evidence, planner=outcome.planner,
            processed_at=datetime.now(UTC),
        )
        await self.publisher.send(
            self.settings.routes().enriched,
            value=enriched.model_dump_json().encode(),
            key=event.account_id.encode(),
            headers=[("content-type", b"application/json")],
        )
        metrics.EVENTS_PROCESSED.labels(outcome.planner).inc()
        metrics.MODEL_TOKENS.labels(outcome.planner, "input").inc(outcome.usage.input_tokens)
        metrics.MODEL_TOKENS.labels(outcome.planner, "output").inc(outcome.usage.output_tokens)
        metrics.MODEL_TOOL_CALLS.labels(outcome.planner).inc(outcome.tool_calls)
        for seconds in outcome.model_seconds:
            metrics.MODEL_LATENCY.labels(outcome.planner).observe(seconds)
        for tag in outcome.tags_added:
            metrics.TAGS_CHANGED.labels(tag, "set").inc()
        for tag in outcome.tags_removed:
            metrics.TAGS_CHANGED.labels(tag, "cleared").inc()
        log.info("enriched: +%s -%s", outcome.tags_added, outcome.tags_removed, extra=where)
        return FlowResult("processed", enriched)

    async def _failed(self, record: Record, provenance: Provenance, error: Exception,
                      where: dict[str, object]) -> Handled:
        if isinstance(error, RateLimited):
            metrics.RATE_LIMITED.labels(error.source).inc()
        decision = decide(error, attempt=provenance.attempts + 1, route=self.route, retry=self.settings.retry,
                          now_ms=int(time.time() * 1000))
        if decision.action == "dead_letter":
            if decision.reason == "unhandled":
                log.exception("agent failed", extra=where)
            return await self._dead_letter(record, provenance, error, decision.reason, decision.attempt)
        assert decision.topic is not None
        ours = delay_headers(record, provenance, decision, group=self.route.group, error=error, signer=self.signer)
        await send_copy(self.publisher, decision.topic, record, ours, dropped=RETRY + "dropped")
        metrics.EVENTS_DELAYED.labels(str(decision.topic)).inc()
        if isinstance(error, RateLimited) and error.held_back:
            log.info("held back by the limiter; retry in %s", decision.topic, extra=where)
        else:
            log.warning("attempt %d failed (%s); retry in %s", decision.attempt, error, decision.topic, extra=where)
        return "delayed"

    async def _dead_letter(self, record: Record, provenance: Provenance, error: BaseException,
                           reason: str | None = None, attempts: int = 1) -> Handled:
        reason = reason or (error.reason if isinstance(error, PermanentFailure) else "unhandled")
        await dead_letter(self.publisher, record, provenance, route=self.route, reason=reason, error=error,
                          attempts=attempts)
        metrics.EVENTS_DEAD_LETTERED.labels(reason).inc()
        log.warning("dead-lettered (%s): %s", reason, str(error)[:200],
                    extra={"partition": record.partition, "offset": record.offset})
        return "dead_lettered"
