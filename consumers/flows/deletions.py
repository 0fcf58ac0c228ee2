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
from datetime import UTC, datetime
from typing import Literal

from pydantic import ValidationError

from ticket_enricher.agents.deletion import Forgetting
from ticket_enricher.config.routes import Route
from ticket_enricher.consumers import metrics
from ticket_enricher.consumers.engine.publishing import Publisher
from ticket_enricher.consumers.engine.records import Record
from ticket_enricher.consumers.flows.failures import Failures
from ticket_enricher.consumers.flows.provenance import Provenance
from ticket_enricher.core.errors import ForgedProvenance, InvalidEvent
from ticket_enricher.core.events import DeletionCompleted, DeletionRequest

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
    def __init__(self, *, forgetting: Forgetting, publisher: Publisher, failures: Failures,
                 completed_topic: str) -> None:
        self.forgetting = forgetting
        self.publisher = publisher
        self.failures = failures
        self.completed_topic = completed_topic

    @property
    def route(self) -> Route:
        return self.failures.route

    async def handle(self, record: Record, provenance: Provenance) -> Outcome:
        where: dict[str, object] = {"partition": record.partition, "offset": record.offset}
        if provenance.forged is not None:
            forged = ForgedProvenance(provenance.forged)
            return await self.failures.dead_letter(record, provenance, forged, attempts=provenance.attempts)
        try:
            request = decode_request(record)
        except InvalidEvent as invalid:
            return await self.failures.dead_letter(record, provenance, invalid, attempts=provenance.attempts + 1)
        where["request_id"] = request.request_id
        try:
            done = await self.forgetting.forget(request)
        except Exception as error:
            outcome = await self.failures.failed(record, provenance, error, where)
            if outcome == "delayed":
                metrics.DELETIONS.labels("retried").inc()
            else:
                log.error("deletion request failed permanently; dead-lettered, redrive it once fixed: %s", error,
                          extra=where)
            return outcome
        report = DeletionCompleted(
            request_id=request.request_id, subject_hashes=done.hashes, requested_at=request.requested_at,
            completed_at=datetime.now(UTC), memories_deleted=done.deleted.memories,
            accounts_touched=done.deleted.accounts, attempts=provenance.attempts + 1,
            verification=done.deleted.verification,
        )
        await self.publisher.send(self.completed_topic, value=report.model_dump_json().encode(),
                                  key=request.request_id.encode(), headers=[("content-type", b"application/json")])
        metrics.DELETIONS.labels("verified").inc()
        log.info("subject forgotten: %d memories deleted in %d accounts, verified", done.deleted.memories,
                 done.deleted.accounts, extra=where)
        return "deleted"


def request_json(request: DeletionRequest) -> bytes:
    return json.dumps(request.model_dump(mode="json", exclude_none=True)).encode()
