"""Least privilege on the broker: the ACLs each principal needs, built from the routes, and created through the
admin API (`ticket-enricher acls --apply`).

    worker              read its inputs and tiers, write its tiers, outputs and DLQs, read its four groups
    ticket producers    write the ticket topic, nothing else: not a tier, not a DLQ, not the deletion topic
    privacy requesters  write deletion requests, read their results
    operators           read and purge the DLQs, redrive to the inputs, describe everything (status), replay
                        (read tickets, write what the ticket flow writes, groups "<group_id>.replay.*")

Read, write and delete imply describe in Kafka, so describe is granted only where nothing else is. Creating the
topics and these ACLs is an administrator's job (Create and Alter on the cluster), not one of these principals'.
aiokafka's admin client has no ACL methods: the CreateAcls request is built here and sent by
`consumers.engine.raw_requests`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from aiokafka.errors import for_code
from aiokafka.protocol.admin import CreateAclsRequest_v0, CreateAclsRequest_v1
from aiokafka.protocol.api import Request

from ticket_enricher.config.settings import Settings
from ticket_enricher.consumers.engine import raw_requests
from ticket_enricher.consumers.engine.clients import KafkaClients, opened

Resource = Literal["topic", "group"]
Operation = Literal["read", "write", "describe", "delete"]
_RESOURCE = {"topic": 2, "group": 3}
_PATTERN = {"literal": 3, "prefixed": 4}
_OPERATION = {"read": 3, "write": 4, "delete": 6, "describe": 8}
_ALLOW = 3


@dataclass(frozen=True, order=True)
class Binding:
    principal: str
    resource: Resource
    name: str
    operation: Operation
    pattern: Literal["literal", "prefixed"] = "literal"

    def as_json(self) -> dict[str, str]:
        return {"principal": self.principal, "resource": self.resource, "name": self.name,
                "pattern": self.pattern, "operation": self.operation, "permission": "allow", "host": "*"}


def bindings(settings: Settings) -> list[Binding]:
    """Every ACL the configured principals need, and no more."""
    routes, acls = settings.routes(), settings.acls
    tickets, deletions = routes.tickets, routes.deletions
    tiers = [t.topic for r in routes.all for t in r.tiers]
    out: set[Binding] = set()

    def grant(principal: str, resource: Resource, names: list[str], *operations: Operation,
              pattern: Literal["literal", "prefixed"] = "literal") -> None:
        out.update(Binding(principal, resource, n, op, pattern) for n in names for op in operations)

    worker = acls.worker
    grant(worker, "topic", [tickets.topic, deletions.topic], "read")
    grant(worker, "topic", tiers, "read", "write")
    grant(worker, "topic", [routes.enriched, routes.deletion_completed, tickets.dlq, deletions.dlq], "write")
    grant(worker, "group", routes.live_groups, "read")
    for producer in acls.ticket_producers:
        grant(producer, "topic", [tickets.topic], "write")
    for requester in acls.privacy_requesters:
        grant(requester, "topic", [deletions.topic], "write")
        grant(requester, "topic", [routes.deletion_completed], "read")
    for operator in acls.operators:
        grant(operator, "topic", [tickets.dlq, deletions.dlq], "read", "delete")
        grant(operator, "topic", [tickets.dlq], "write")  # a replay dead-letters what the live flow would
        grant(operator, "topic", [tickets.topic, deletions.topic], "write")
        grant(operator, "topic", [tickets.topic], "read")
        grant(operator, "topic", [routes.enriched, *(t.topic for t in tickets.tiers)], "write")
        grant(operator, "topic", [routes.deletion_completed, *(t.topic for t in deletions.tiers)], "describe")
        grant(operator, "group", routes.live_groups, "describe")
        grant(operator, "group", [routes.replay_prefix], "read", pattern="prefixed")
    return sorted(out)


class _CreateAcls(Request[CreateAclsRequest_v0 | CreateAclsRequest_v1]):
    API_KEY = 30

    def __init__(self, creations: list[Binding]) -> None:
        self._creations = creations

    def build(self, request_struct_class: Any) -> Any:
        rows = []
        for b in self._creations:
            pattern = [_PATTERN[b.pattern]] if request_struct_class.API_VERSION >= 1 else []
            if not pattern and b.pattern != "literal":
                raise ValueError("this broker's CreateAcls v0 cannot express prefixed ACLs")
            rows.append((_RESOURCE[b.resource], b.name, *pattern, b.principal, "*", _OPERATION[b.operation], _ALLOW))
        return request_struct_class(rows)


async def apply(settings: Settings, wanted: list[Binding]) -> int:
    """Create `wanted` (creating an existing ACL again is harmless); returns how many the broker accepted."""
    async with opened(KafkaClients.from_settings(settings).admin("acls")) as admin:
        response = await raw_requests.send(admin, _CreateAcls(wanted))
    failures = [(b, code, message) for b, (code, message) in zip(wanted, response.creation_responses, strict=True)
                if code != 0]
    if failures:
        binding, code, message = failures[0]
        raise for_code(code)(f"{len(failures)} of {len(wanted)} ACLs refused, first {binding}: {message or code}")
    return len(wanted)
