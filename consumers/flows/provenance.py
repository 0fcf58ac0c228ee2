"""Provenance: the headers the worker writes for itself, and how far it trusts them. Trust follows the topic a
record was read from (`config.routes`), never a header.

Ours (every value a UTF-8 string):
  x-retry-attempt          attempts made so far                      } on a delay-tier copy
  x-retry-due-ms           epoch ms before which it must not run     }
  x-retry-original-topic / -partition / -offset / -timestamp   where the record first arrived
  x-retry-consumer-group, x-retry-error-class, x-retry-error   who failed it last, and why
  x-retry-signature        HMAC-SHA256 of the above, key, value and tier (with retry.sign_provenance)
  x-retry-dropped          what a too-large copy left out (`headers`, `value`; see `consumers.engine.publishing`)
  x-dlq-*                  on a dead-letter copy (`consumers.flows.dlq`)
  x-redriven-from          on a record `dlq redrive` sent back to its input topic

* **Input topics** are written by producers outside the worker, so these headers there are somebody else's: they
  are ignored, dropped from every copy the worker makes, counted (`ticket_enricher_foreign_provenance_total
  {topic}`) and logged by name (never by value). A record read there is on its first attempt, and it came from
  where it was read.
* **Delay tiers** are written by the worker only (see the ACLs in the README), yet what they say is bounded: the
  attempt count to 1..max_attempts, the due time to the tier's delay (or `retry.max_wait_seconds` in the largest
  tier) past the record's timestamp or past when it was first looked at, whichever is earlier; the original topic
  is the route's. So a forged or corrupted record can neither skip its retries nor hold a partition's commit
  point for ever. With `retry.sign_provenance`, a record whose signature does not match is dead-lettered as
  `forged_provenance`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from dataclasses import dataclass

from ticket_enricher.config.routes import Route, Tier
from ticket_enricher.consumers import metrics
from ticket_enricher.consumers.engine.records import Record
from ticket_enricher.consumers.flows.policy import Decision

log = logging.getLogger("ticket_enricher.provenance")

RETRY = "x-retry-"
OURS = (RETRY, "x-dlq-", "x-redriven-from")
SIGNATURE = RETRY + "signature"
_ATTEMPTS_WITHOUT_LIMIT = 1_000_000


def is_ours(name: str) -> bool:
    return name.lower().startswith(OURS)


def producer_headers(record: Record) -> list[tuple[str, bytes]]:
    """The producer's own headers, byte for byte and in order, without any of ours."""
    return [(k, v if v is not None else b"") for k, v in record.headers if not is_ours(k)]


@dataclass(frozen=True)
class Origin:
    """Where a record first arrived: the route's input topic, and the partition, offset and time it had there."""

    topic: str
    partition: int
    offset: int
    timestamp_ms: int

    def fields(self) -> dict[str, str]:
        return {"topic": self.topic, "partition": str(self.partition), "offset": str(self.offset),
                "timestamp": str(self.timestamp_ms)}


@dataclass(frozen=True)
class Provenance:
    """What the worker knows of a record's past: attempts before this one, and where it first arrived."""

    attempts: int
    origin: Origin
    forged: str | None = None  # why a delay-tier record failed verification (then it is dead-lettered)


class Signer:
    """HMAC-SHA256 over a delay copy's provenance, its key and value and the tier it was written to, so that a
    valid signature cannot be moved to other content or another flow."""

    def __init__(self, key: bytes) -> None:
        if not key:
            raise ValueError("a provenance key must not be empty")
        self._key = key

    def sign(self, tier: str, record_key: bytes | None, value: bytes | None, fields: dict[str, str]) -> str:
        material = json.dumps([tier, (record_key or b"").hex(), hashlib.sha256(value or b"").hexdigest(),
                               sorted(fields.items())], separators=(",", ":"))
        return hmac.new(self._key, material.encode(), hashlib.sha256).hexdigest()

    def verify(self, record: Record, fields: dict[str, str], signature: str | None) -> bool:
        expected = self.sign(record.topic, record.key, record.value, fields)
        return signature is not None and hmac.compare_digest(expected, signature)


def arrival(record: Record) -> tuple[Record, Provenance]:
    """A record read from an input topic: our headers on it are ignored, dropped and counted; first attempt."""
    found = [k for k, _ in record.headers if is_ours(k)]
    if found:
        metrics.FOREIGN_PROVENANCE.labels(record.topic).inc()
        names = sorted({k[:64] for k in found})
        log.warning("ignored %d provenance header(s) set by a producer: %s", len(found),
                    ", ".join(names[:10]) + (" …" if len(names) > 10 else ""),
                    extra={"partition": record.partition, "offset": record.offset})
        record = Record(record.topic, record.partition, record.offset, record.timestamp_ms, record.key,
                        record.value, tuple((k, v) for k, v in record.headers if not is_ours(k)))
    return record, Provenance(0, Origin(record.topic, record.partition, record.offset, record.timestamp_ms))


def _ours_on(record: Record) -> dict[str, list[str]]:
    values: dict[str, list[str]] = {}
    for k, v in record.headers:
        if k.startswith(RETRY):
            values.setdefault(k[len(RETRY):], []).append((v or b"").decode("utf-8", "replace"))
    return values


def _number(values: list[str] | None) -> int | None:
    """The header's integer when it appears exactly once and parses; duplicated or garbled is unknown."""
    if values is None or len(values) != 1 or len(text := values[0].strip()) > 20:
        return None
    try:
        return int(text)
    except ValueError:
        return None


def _or(value: int | None, default: int) -> int:
    return default if value is None else value


def from_tier(record: Record, route: Route, signer: Signer | None = None) -> Provenance:
    """A record read from one of `route`'s delay tiers: its provenance, bounded (see the module docstring)."""
    values = _ours_on(record)
    limit = route.max_attempts or _ATTEMPTS_WITHOUT_LIMIT
    attempts = min(max(_number(values.get("attempt")) or 1, 1), limit)
    origin = Origin(route.topic, _or(_number(values.get("original-partition")), -1),
                    _or(_number(values.get("original-offset")), -1),
                    _or(_number(values.get("original-timestamp")), record.timestamp_ms))
    forged = None
    if signer is not None:
        signatures = values.pop("signature", None)
        duplicated = sorted(k for k, v in values.items() if len(v) > 1)
        fields = {k: v[0] for k, v in values.items()}
        if duplicated:
            forged = f"duplicated provenance headers: {', '.join(RETRY + k for k in duplicated)}"
        elif not signer.verify(record, fields, signatures[0] if signatures and len(signatures) == 1 else None):
            forged = "the provenance signature is missing or does not match"
    return Provenance(attempts, origin, forged)


def due_ms(record: Record, route: Route, tier: Tier, now_ms: int) -> int:
    """When a delay-tier record may run: its `x-retry-due-ms`, but never later than the tier allows past the
    earlier of its timestamp and `now_ms` (call it once per record: `now_ms` is when it was first looked at)."""
    bound_ms = int(route.longest_wait_seconds(tier) * 1000)
    latest = min(record.timestamp_ms, now_ms) + bound_ms
    declared = _number(_ours_on(record).get("due-ms"))
    return latest if declared is None else min(declared, latest)


def delay_headers(record: Record, provenance: Provenance, decision: Decision, *, group: str,
                  error: BaseException, signer: Signer | None = None) -> list[tuple[str, bytes]]:
    """Our headers on the copy that goes to `decision.topic` (signed when configured); the producer's own are
    added by `consumers.engine.publishing.send_copy`."""
    assert decision.topic is not None and decision.due_ms is not None
    fields = {
        "attempt": str(decision.attempt),
        "due-ms": str(decision.due_ms),
        **{f"original-{k}": v for k, v in provenance.origin.fields().items()},
        "consumer-group": group,
        "error-class": type(error).__name__,
        "error": str(error)[:1000],
    }
    ours = [(RETRY + k, v.encode()) for k, v in fields.items()]
    if signer is not None:
        ours.append((SIGNATURE, signer.sign(decision.topic, record.key, record.value, fields).encode()))
    return ours
