"""Dead-lettering: the original key, value and producer headers, plus provenance and the reason, in `x-dlq-*`
headers, on the dead-letter topic of the record's route.

Header names (all values UTF-8 strings):
  x-dlq-reason              short code: empty, oversized, invalid_json, schema, key_mismatch, model_misbehaved,
                            max_attempts, forged_provenance, permanent, unhandled
  x-dlq-error               human-readable detail (at most 1,000 characters)
  x-dlq-error-class         the exception class
  x-dlq-original-topic / -partition / -offset / -timestamp   where the record first arrived (the route's input)
  x-dlq-consumer-group      the group that gave up on it
  x-dlq-attempts            how many times it was tried
  x-dlq-failed-at           epoch milliseconds
  x-dlq-dropped             set when the copy would not fit the broker's size limit: what was left out
                            (`headers`, then `value`); the original stays on its input topic until retention

A copy that the broker refuses as too large is sent again without the producer's headers, then without the value
(`consumers.engine.publishing.send_copy`), so a dead letter is never stuck behind its own size.
"""

from __future__ import annotations

import time

from config.routes import Route
from consumers.flows.provenance import Provenance
from consumers.engine.publishing import Publisher, send_copy
from consumers.engine.records import Record

PREFIX = "x-dlq-"


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


async def dead_letter(publisher: Publisher, record: Record, provenance: Provenance, *, route: Route, reason: str,
                      error: BaseException, attempts: int = 1) -> None:
    ours = dead_letter_headers(provenance, group=route.group, reason=reason, error=error, attempts=attempts)
    await send_copy(publisher, route.dlq, record, ours, dropped=PREFIX + "dropped")
