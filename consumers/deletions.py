"""The deletion flow: a right-to-be-forgotten request in, a verified deletion and its report out.

Consumed from `privacy.deletion-requests` by its own `KeyOrderedConsumer` (group `<group_id>.privacy`, so a
backlog of tickets never delays a deletion), keyed by the subject. Per request: tombstone, delete, wait,
verify (see `agents.deletion`), then publish `DeletionCompleted` to `privacy.deletion-completed`, keyed by
the request id, with the subject only as hashes.

Failures never drop a request: a retryable error, or a delete that does not verify yet, goes through the delay
tiers for as long as it takes (no attempt limit); a request that is not valid JSON or not a valid request goes
to the dead-letter topic with its reason, where `dlq redrive` can send it back once fixed. Every step is
idempotent, so a redelivered request deletes nothing twice and reports again.
"""

from __future__ import annotations

import json
import logging
import time
from datetime import UTC, datetime
from typing import Literal

from pydantic import ValidationError

from agents.deletion import DeletionTools
from config.settings import Settings
from consumers import metrics, retries
from consumers.dlq import dead_letter
from consumers.policy import decide
from consumers.publishing import Publisher
from consumers.records import Record
from core.errors import InvalidEvent, PermanentFailure, TransientError
from core.events import DeletionCompleted, DeletionRequest
from memory.store import MemoryStore

log = logging.getLogger("ticket_enricher.deletions")

Outcome = Literal["deleted", "delayed", "dead_lettered"]


class NotVerified(TransientError):
    """Raised when list or search still return memories of the subject after the delete settled."""


def decode_request(record: Record) -> DeletionRequest:
    if not record.value:
        raise InvalidEvent("empty", "the record has no value")
    try:
        return DeletionRequest.model_validate_json(record.value)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "request"
        reason = "invalid_json" if first["type"] == "json_invalid" else "schema"
        raise InvalidEvent(reason, f"{where}: {first['msg']}") from exc


class DeletionFlow:
    def __init__(self, *, store: MemoryStore, publisher: Publisher, settings: Settings) -> None:
        self.store = store
        self.publisher = publisher
        self.settings = settings

    async def handle(self, record: Record) -> Outcome:
        where = {"partition": record.partition, "offset": record.offset}
        try:
            request = decode_request(record)
        except InvalidEvent as invalid:
            await dead_letter(self.publisher, record, dlq_topic=self.settings.topics.dlq,
                              group=f"{self.settings.kafka.group_id}.privacy", reason=invalid.reason,
                              error=invalid)
            metrics.EVENTS_DEAD_LETTERED.labels(invalid.reason).inc()
            log.warning("deletion request dead-lettered (%s): %s", invalid.reason, invalid.detail, extra=where)
            return "dead_lettered"
        where["request_id"] = request.request_id  # type: ignore[assignment]
        tools = DeletionTools(self.store, request.subject, wait_seconds=self.settings.privacy.delete_wait_seconds)
        try:
            await tools.entomb(request.request_id)
            deleted = await tools.delete()
            if not deleted.verification.verified:
                v = deleted.verification
                raise NotVerified(f"delete {v.delete_status}; {v.remaining_listed} listed and "
                                  f"{v.remaining_searched} found by search still")
        except Exception as error:
            return await self._failed(record, error, where)
        report = DeletionCompleted(
            request_id=request.request_id, subject_hashes=tools.hashes, requested_at=request.requested_at,
            completed_at=datetime.now(UTC), memories_deleted=deleted.memories,
            accounts_touched=deleted.accounts, attempts=retries.attempts(record) + 1,
            verification=deleted.verification,
        )
        await self.publisher.send(self.settings.topics.deletion_completed, value=report.model_dump_json().encode(),
                                  key=request.request_id.encode(), headers=[("content-type", b"application/json")])
        metrics.DELETIONS.labels("verified").inc()
        log.info("subject forgotten: %d memories deleted in %d accounts, verified", deleted.memories,
                 deleted.accounts, extra=where)
        return "deleted"

    async def _failed(self, record: Record, error: Exception, where: dict[str, object]) -> Outcome:
        decision = decide(error, attempt=retries.attempts(record) + 1, retry=self.settings.retry,
                          topics=self.settings.topics, now_ms=int(time.time() * 1000), give_up=False)
        group = f"{self.settings.kafka.group_id}.privacy"
        if decision.action == "dead_letter":
            reason = error.reason if isinstance(error, PermanentFailure) else "unhandled"
            log.error("deletion request failed permanently (%s); dead-lettered, redrive it once fixed: %s",
                      reason, error, extra=where)
            await dead_letter(self.publisher, record, dlq_topic=self.settings.topics.dlq, group=group,
                              reason=reason, error=error, attempts=decision.attempt)
            metrics.EVENTS_DEAD_LETTERED.labels(reason).inc()
            return "dead_lettered"
        await retries.delay(self.publisher, record, decision, group=group, error=error)
        metrics.DELETIONS.labels("retried").inc()
        log.warning("deletion attempt %d failed (%s); retry in %s", decision.attempt, error, decision.topic,
                    extra=where)
        return "delayed"


def request_json(request: DeletionRequest) -> bytes:
    return json.dumps(request.model_dump(mode="json", exclude_none=True)).encode()
