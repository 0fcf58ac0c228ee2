"""The deletion flow: a right-to-be-forgotten request in, a verified deletion and its report out.

Consumed from `privacy.deletion-requests` by its own `KeyOrderedConsumer` (group `<group_id>.privacy`, so a
backlog of tickets never delays a deletion), keyed by the subject. Per request: tombstone, delete, wait,
verify (see `agents.deletion`), then publish `DeletionCompleted` to `privacy.deletion-completed`, keyed by
the request id, with the subject only as hashes.

Failures never drop a request: a retryable error, or a delete that does not verify yet, goes through the flow's
own delay tiers (`privacy.deletion-requests.delay.<N>s`) for as long as it takes (no attempt limit); a request that
is not valid JSON or not a valid request goes to the flow's dead-letter topic with its reason, where `dlq redrive`
can send it back once fixed. Every step is idempotent, so a redelivered request deletes nothing twice and reports
again.

The flow is reached only from its own topics (`config.routes`), and its input is decoded strictly: a request with
a field the contract does not define is refused (`schema`), since a destructive command should do exactly what
it says or nothing.
"""

from __future__ import annotations

import json
import logging
import time
from datetime import UTC, datetime
from typing import Literal

from pydantic import ValidationError

from agents.deletion import DeletionTools
from config.routes import Route
from config.settings import Settings
from consumers import metrics
from consumers.flows.dlq import dead_letter
from consumers.flows.policy import decide
from consumers.flows.provenance import RETRY, Provenance, Signer, delay_headers
from consumers.engine.publishing import Publisher, send_copy
from consumers.engine.records import Record
from core.errors import ForgedProvenance, InvalidEvent, NotVerified, PermanentFailure
from core.events import DeletionCompleted, DeletionRequest
from memory.store import MemoryStore

log = logging.getLogger("ticket_enricher.deletions")

Outcome = Literal["deleted", "delayed", "dead_lettered"]


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
    def __init__(self, *, store: MemoryStore, publisher: Publisher, settings: Settings,
                 signer: Signer | None = None) -> None:
        self.store = store
        self.publisher = publisher
        self.settings = settings
        self.route: Route = settings.routes().deletions
        self.signer = signer

    async def handle(self, record: Record, provenance: Provenance) -> Outcome:
        where = {"partition": record.partition, "offset": record.offset}
        if provenance.forged is not None:
            forged = ForgedProvenance(provenance.forged)
            await dead_letter(self.publisher, record, provenance, route=self.route, reason=forged.reason,
                              error=forged, attempts=provenance.attempts)
            metrics.EVENTS_DEAD_LETTERED.labels(forged.reason).inc()
            log.warning("deletion request dead-lettered: %s", forged, extra=where)
            return "dead_lettered"
        try:
            request = decode_request(record)
        except InvalidEvent as invalid:
            await dead_letter(self.publisher, record, provenance, route=self.route, reason=invalid.reason,
                              error=invalid, attempts=provenance.attempts + 1)
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
            return await self._failed(record, provenance, error, where)
        report = DeletionCompleted(
            request_id=request.request_id, subject_hashes=tools.hashes, requested_at=request.requested_at,
            completed_at=datetime.now(UTC), memories_deleted=deleted.memories,
            accounts_touched=deleted.accounts, attempts=provenance.attempts + 1,
            verification=deleted.verification,
        )
        await self.publisher.send(self.settings.routes().deletion_completed, value=report.model_dump_json().encode(),
                                  key=request.request_id.encode(), headers=[("content-type", b"application/json")])
        metrics.DELETIONS.labels("verified").inc()
        log.info("subject forgotten: %d memories deleted in %d accounts, verified", deleted.memories,
                 deleted.accounts, extra=where)
        return "deleted"

    async def _failed(self, record: Record, provenance: Provenance, error: Exception,
                      where: dict[str, object]) -> Outcome:
        decision = decide(error, attempt=provenance.attempts + 1, route=self.route, retry=self.settings.retry,
                          now_ms=int(time.time() * 1000))
        if decision.action == "dead_letter":
            reason = error.reason if isinstance(error, PermanentFailure) else "unhandled"
            log.error("deletion request failed permanently (%s); dead-lettered, redrive it once fixed: %s",
                      reason, error, extra=where)
            await dead_letter(self.publisher, record, provenance, route=self.route, reason=reason, error=error,
                              attempts=decision.attempt)
            metrics.EVENTS_DEAD_LETTERED.labels(reason).inc()
            return "dead_lettered"
        assert decision.topic is not None
        ours = delay_headers(record, provenance, decision, group=self.route.group, error=error, signer=self.signer)
        await send_copy(self.publisher, decision.topic, record, ours, dropped=RETRY + "dropped")
        metrics.DELETIONS.labels("retried").inc()
        log.warning("deletion attempt %d failed (%s); retry in %s", decision.attempt, error, decision.topic,
                    extra=where)
        return "delayed"


def request_json(request: DeletionRequest) -> bytes:
    return json.dumps(request.model_dump(mode="json", exclude_none=True)).encode()
