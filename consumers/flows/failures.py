"""What a flow does with a failure: ask the policy (`consumers.flows.policy`), then publish the record's copy to the
delay tier it chose or to the route's dead-letter topic. Both flows use this one path.

Dead-letter headers (all values UTF-8 strings):
  x-dlq-reason              short code: empty, oversized, invalid_json, schema, key_mismatch, model_misbehaved,
                            max_attempts, forged_provenance, permanent, unhandled, ...
  x-dlq-error               human-readable detail (at most 1,000 characters)
  x-dlq-error-class         the exception class
  x-dlq-original-topic / -partition / -offset / -timestamp   where the record first arrived (the route's input)
  x-dlq-consumer-group      the group that gave up on it
  x-dlq-attempts            how many times it was tried
  x-dlq-failed-at           epoch milliseconds
  x-dlq-dropped             set when the copy would not fit the broker's size limit: what was left out
                            (`headers`, then `value`); the original stays on its input topic until retention

A copy that the broker refuses as too large is sent again without the producer's headers, then without the value
(`consumers.engine.publishing.send_copy`), so a record is never stuck behind its own size.
"""

from __future__ import annotations

import logging
import time
from typing import Literal

from ticket_enricher.config.routes import Route
from ticket_enricher.config.settings import RetrySettings
from ticket_enricher.consumers import metrics
from ticket_enricher.consumers.engine.publishing import Publisher, send_copy
from ticket_enricher.consumers.engine.records import Record
from ticket_enricher.consumers.flows.policy import decide
from ticket_enricher.consumers.flows.provenance import RETRY, Provenance, Signer, delay_headers, producer_headers
from ticket_enricher.core.errors import OverBudget, PermanentFailure, RateLimited

PREFIX = "x-dlq-"
log = logging.getLogger("ticket_enricher.failures")

Failed = Literal["delayed", "dead_lettered"]


def dead_letter_headers(provenance: Provenance, *, group: str, reason: str, error: BaseException,
                        attempts: int = 1) -> list[tuple[str, bytes]]:
    fields = {
        "reason": reason,
        "error": str(error)[:1000],
        "error-class": type(error).__name__,
        **{f"original-{k}": v for k, v in provenance.origin.fields().items()},
        "consumer-group": group,
        "attempts": str(attempts),
        "failed-at": str(int(time.time() * 1000)),
    }
    return [(PREFIX + k, v.encode()) for k, v in fields.items()]


class Failures:
    """The failure path of one route."""

    def __init__(self, publisher: Publisher, route: Route, retry: RetrySettings, signer: Signer | None) -> None:
        self.publisher = publisher
        self.route = route
        self.retry = retry
        self.signer = signer

    async def failed(self, record: Record, provenance: Provenance, error: Exception,
                     where: dict[str, object]) -> Failed:
        """Delay or dead-letter the record as the policy decides; returns which. A record the policy holds in
        place (the model's breaker is open) raises `error` again, so the engine runs it again later."""
        if isinstance(error, RateLimited) and not isinstance(error, OverBudget):
            metrics.RATE_LIMITED.labels(error.source).inc()
        decision = decide(error, attempt=provenance.attempts + 1, route=self.route, retry=self.retry,
                          now_ms=int(time.time() * 1000))
        if decision.action == "hold":
            log.info("held in place: %s", error, extra=where)
            raise error
        if decision.action == "dead_letter":
            if decision.reason == "unhandled":
                log.error("%s flow failed", self.route.flow, exc_info=error, extra=where)
            return await self.dead_letter(record, provenance, error, decision.reason, decision.attempt)
        assert decision.topic is not None
        ours = delay_headers(record, provenance, decision, group=self.route.group, error=error, signer=self.signer)
        await send_copy(self.publisher, decision.topic, record, producer_headers(record), ours,
                        dropped=RETRY + "dropped")
        metrics.EVENTS_DELAYED.labels(decision.topic).inc()
        if isinstance(error, OverBudget):
            log.info("%s; retry in %s", error, decision.topic, extra=where)
        elif isinstance(error, RateLimited) and error.held_back:
            log.info("held back by the limiter; retry in %s", decision.topic, extra=where)
        else:
            log.warning("attempt %d failed (%s); retry in %s", decision.attempt, error, decision.topic, extra=where)
        return "delayed"

    async def dead_letter(self, record: Record, provenance: Provenance, error: BaseException,
                          reason: str | None = None, attempts: int = 1) -> Failed:
        reason = reason or (error.reason if isinstance(error, PermanentFailure) else "unhandled")
        ours = dead_letter_headers(provenance, group=self.route.group, reason=reason, error=error, attempts=attempts)
        await send_copy(self.publisher, self.route.dlq, record, producer_headers(record), ours,
                        dropped=PREFIX + "dropped")
        metrics.EVENTS_DEAD_LETTERED.labels(reason).inc()
        log.warning("dead-lettered (%s): %s", reason, str(error)[:200],
                    extra={"partition": record.partition, "offset": record.offset})
        return "dead_lettered"
