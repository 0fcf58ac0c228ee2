"""Dead-lettering: the original key, value and headers, plus provenance and the reason, in `x-dlq-*` headers.

Header names (all values UTF-8 strings):
  x-dlq-reason              short code: empty, oversized, invalid_json, schema, key_mismatch, model_misbehaved, …
  x-dlq-error               human-readable detail (at most 1,000 characters)
  x-dlq-error-class         the exception class
  x-dlq-original-topic / -partition / -offset / -timestamp
  x-dlq-consumer-group      the group that gave up on it
  x-dlq-attempts            how many times it was tried
  x-dlq-failed-at           epoch milliseconds
The original-* headers name where the event first arrived, also when it failed in a delay tier.
"""

from __future__ import annotations

import time

from consumers.publishing import Publisher
from consumers.records import Record
from consumers.retries import foreign_headers, original

PREFIX = "x-dlq-"


def dead_letter_headers(
    record: Record, *, group: str, reason: str, error: BaseException, attempts: int = 1
) -> list[tuple[str, bytes]]:
    provenance = {
        "reason": reason,
        "error": str(error)[:1000],
        "error-class": type(error).__name__,
        **{f"original-{k}": v for k, v in original(record).items()},
        "consumer-group": group,
        "attempts": str(attempts),
        "failed-at": str(int(time.time() * 1000)),
    }
    return foreign_headers(record) + [(PREFIX + k, v.encode()) for k, v in provenance.items()]


async def dead_letter(
    publisher: Publisher, record: Record, *, dlq_topic: str, group: str, reason: str, error: BaseException,
    attempts: int = 1,
) -> None:
    await publisher.send(
        dlq_topic,
        value=record.value,
        key=record.key,
        headers=dead_letter_headers(record, group=group, reason=reason, error=error, attempts=attempts),
    )
