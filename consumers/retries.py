"""Retry provenance in headers: how many attempts a record has had, when it is due, and where it first came from.

Headers on a record in a delay tier (UTF-8 strings):
  x-retry-attempt          attempts made so far
  x-retry-due-ms           epoch milliseconds before which it must not be processed
  x-retry-original-topic / -partition / -offset / -timestamp   where the event first arrived
  x-retry-consumer-group   the group that failed it
  x-retry-error-class, x-retry-error                        the last failure
"""

from __future__ import annotations

from consumers.policy import Decision
from consumers.publishing import Publisher
from consumers.records import Record

PREFIX = "x-retry-"
OURS = (PREFIX, "x-dlq-")


def attempts(record: Record) -> int:
    value = record.header(PREFIX + "attempt")
    try:
        return max(0, int(value)) if value is not None else 0
    except ValueError:
        return 0


def due_ms(record: Record) -> int:
    value = record.header(PREFIX + "due-ms")
    try:
        return int(value) if value is not None else 0
    except ValueError:
        return 0


def original(record: Record) -> dict[str, str]:
    """Where the event first arrived: from the headers after a delay, else the record itself."""
    here = {"topic": record.topic, "partition": str(record.partition), "offset": str(record.offset),
            "timestamp": str(record.timestamp_ms)}
    return {k: record.header(f"{PREFIX}original-{k}") or v for k, v in here.items()}


def foreign_headers(record: Record) -> list[tuple[str, bytes]]:
    """The producer's own headers, byte for byte, without our provenance."""
    return [(k, v if v is not None else b"") for k, v in record.headers if not k.startswith(OURS)]


async def delay(publisher: Publisher, record: Record, decision: Decision, *, group: str,
                error: BaseException) -> None:
    assert decision.topic is not None and decision.due_ms is not None
    provenance = {
        "attempt": str(decision.attempt),
        "due-ms": str(decision.due_ms),
        **{f"original-{k}": v for k, v in original(record).items()},
        "consumer-group": group,
        "error-class": type(error).__name__,
        "error": str(error)[:1000],
    }
    await publisher.send(
        decision.topic, value=record.value, key=record.key,
        headers=foreign_headers(record) + [(PREFIX + k, v.encode()) for k, v in provenance.items()],
    )
