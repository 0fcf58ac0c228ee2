"""Dead-lettering: the original key, value and headers, plus provenance and the reason, in `x-dlq-*` headers.

Header names (all values UTF-8 strings):
  x-dlq-reason              short code: empty, oversized, invalid_json, schema, key_mismatch, model_misbehaved, …
  x-dlq-error               human-readable detail (at most 1,000 characters)
  x-dlq-error-class         the exception class
  x-dlq-original-topic / -partition / -offset / -timestamp
  x-dlq-consumer-group      the group that gave up on it
  x-dlq-failed-at           epoch milliseconds
"""

from __future__ import annotations

import time

from consumers.publishing import Publisher
from consumers.records import Record

PREFIX = "x-dlq-"


def dead_letter_headers(
    record: Record, *, group: str, reason: str, error: BaseException
) -> list[tuple[str, bytes]]:
    provenance = {
        "reason": reason,
        "error": str(error)[:1000],
        "error-class": type(error).__name__,
        "original-topic": record.topic,
        "original-partition": str(record.partition),
        "original-offset": str(record.offset),
        "original-timestamp": str(record.timestamp_ms),
        "consumer-group": group,
        "failed-at": str(int(time.time() * 1000)),
    }
    kept = [(k, v if v is not None else b"") for k, v in record.headers if not k.startswith(PREFIX)]
    return kept + [(PREFIX + k, v.encode()) for k, v in provenance.items()]


async def dead_letter(
    publisher: Publisher, record: Record, *, dlq_topic: str, group: str, reason: str, error: BaseException
) -> None:
    await publisher.send(
        dlq_topic,
        value=record.value,
        key=record.key,
        headers=dead_letter_headers(record, group=group, reason=reason, error=error),
    )
