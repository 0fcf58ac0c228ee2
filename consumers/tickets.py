"""The ticket flow: decode → agent → publish the enriched account event. Thin on purpose.

Acknowledgement: the record's offset is committed only after `handle` returns, i.e. after the outcome (or the
dead-letter copy) is acknowledged by the broker. A crash at any line before that leaves the offset uncommitted
and the record is redelivered; the agent's writes are idempotent per `event_id`, so that is harmless.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Literal

from agents.loop import Agent
from config.settings import Settings
from consumers import metrics
from consumers.decode import UnknownEventType, decode_ticket_event
from consumers.dlq import dead_letter
from consumers.policy import decide
from consumers.publishing import Publisher
from consumers.records import Record
from core.errors import InvalidEvent
from core.events import EnrichedAccountEvent

log = logging.getLogger("ticket_enricher.tickets")

Handled = Literal["processed", "skipped", "dead_lettered"]


class TicketFlow:
    def __init__(self, *, agent: Agent, publisher: Publisher, settings: Settings) -> None:
        self.agent = agent
        self.publisher = publisher
        self.settings = settings

    async def handle(self, record: Record) -> Handled:
        """Process one record; raises only when the record must be redelivered (see `consumers.policy`)."""
        where = {"partition": record.partition, "offset": record.offset}
        try:
            event = decode_ticket_event(record, self.settings.worker.max_message_bytes)
        except UnknownEventType as skip:
            metrics.EVENTS_SKIPPED.labels(skip.event_type[:64]).inc()
            log.info("skipped event of unknown type %r", skip.event_type[:64], extra=where)
            return "skipped"
        except InvalidEvent as invalid:
            return await self._dead_letter(record, invalid)
        where |= {"event_id": event.event_id, "account_id": event.account_id, "ticket_id": event.ticket.id}
        try:
            outcome = await self.agent.run(event)
        except Exception as error:
            if decide(error).action == "redeliver":
                metrics.EVENTS_REDELIVERED.labels(type(error).__name__).inc()
                log.warning("will redeliver: %s", error, extra=where)
                raise
            log.exception("agent failed", extra=where)
            return await self._dead_letter(record, error)
        enriched = EnrichedAccountEvent(
            event_id=event.event_id, account_id=event.account_id, ticket_id=event.ticket.id,
            tags=outcome.tags, tags_added=outcome.tags_added, tags_removed=outcome.tags_removed,
            memory_ids=outcome.memory_ids, evidence=outcome.evidence, planner=outcome.planner,
            processed_at=datetime.now(UTC),
        )
        await self.publisher.send(
            self.settings.topics.enriched,
            value=enriched.model_dump_json().encode(),
            key=event.account_id.encode(),
            headers=[("content-type", b"application/json")],
        )
        metrics.EVENTS_PROCESSED.labels(outcome.planner).inc()
        metrics.MODEL_TOKENS.labels(outcome.planner, "input").inc(outcome.usage.input_tokens)
        metrics.MODEL_TOKENS.labels(outcome.planner, "output").inc(outcome.usage.output_tokens)
        metrics.MODEL_TOOL_CALLS.labels(outcome.planner).inc(outcome.tool_calls)
        for tag in outcome.tags_added:
            metrics.TAGS_CHANGED.labels(tag, "set").inc()
        for tag in outcome.tags_removed:
            metrics.TAGS_CHANGED.labels(tag, "cleared").inc()
        log.info("enriched: +%s -%s", outcome.tags_added, outcome.tags_removed, extra=where)
        return "processed"

    async def _dead_letter(self, record: Record, error: BaseException) -> Handled:
        reason = decide(error).reason
        await dead_letter(
            self.publisher, record, dlq_topic=self.settings.topics.dlq, group=self.settings.kafka.group_id,
            reason=reason, error=error,
        )
        metrics.EVENTS_DEAD_LETTERED.labels(reason).inc()
        log.warning("dead-lettered (%s): %s", reason, str(error)[:200],
                    extra={"partition": record.partition, "offset": record.offset})
        return "dead_lettered"
