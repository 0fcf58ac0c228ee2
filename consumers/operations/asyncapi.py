"""The AsyncAPI document of every topic the worker reads or writes, and of its payloads, for FastStream's generator.

`docs/asyncapi.yaml` is generated from this module by FastStream's own generator (`make docs`, i.e.
`faststream docs gen consumers.operations.asyncapi:app --yaml --out docs/asyncapi.yaml`), and `tests/test_asyncapi.py`
fails when it is not current. The topics are declared here, on a `KafkaBroker` that never connects, because the
runtime consumers are not FastStream subscribers (they are `consumers.engine.ordered.KeyOrderedConsumer`s on aiokafka;
its docstring says why): the handlers below never run and exist only so the generator sees the payload types.

Topic names, groups and the server come from the shipped defaults (`config/defaults.toml`) and never from
`TICKET_ENRICHER_*` variables, so the document is the same in every shell.

Each endpoint is declared on a router of its own: a FastStream broker keeps its own subscribers and publishers in
a `WeakSet`, which iterates in memory-address order, so the channels of one broker came out in a different order
from run to run; routers are kept in a list, so this way the document follows the order of declaration.
"""

from __future__ import annotations

import tomllib
from collections.abc import Awaitable, Callable
from importlib.metadata import version

from faststream import FastStream
from faststream.kafka import KafkaBroker, KafkaRouter
from faststream.specification import AsyncAPI

from ticket_enricher.config.settings import DEFAULTS_FILE, Settings, load_settings
from ticket_enricher.core.events import DeletionCompleted, DeletionRequest, EnrichedAccountEvent, TicketEvent

TITLE = "ticket-enricher"
DESCRIPTION = (
    "A Kafka worker that enriches support-ticket events with long-term account memory and churn tags, and "
    "carries out right-to-be-forgotten requests. Delivery is at-least-once and every effect is idempotent.\n\n"
    "Generated from `consumers/operations/asyncapi.py` with `make docs`; do not edit by hand."
)
_NOT_HERE = "documentation only: the real consumer is consumers/engine/ordered.py (KeyOrderedConsumer)"

_RETRY_HEADERS = (
    "`x-retry-attempt` (attempts made so far), `x-retry-due-ms` (epoch ms before which it must not run), "
    "`x-retry-original-topic`, `-partition`, `-offset`, `-timestamp` (where it first arrived), "
    "`x-retry-consumer-group` (the group that failed it), `x-retry-error-class`, `x-retry-error` (the last failure), "
    "`x-retry-signature` (HMAC-SHA256 of them, with `retry.sign_provenance`). Read only on this topic, and bounded: "
    "the attempt count to 1..max_attempts, the due time to the tier's delay"
)
_DLQ_HEADERS = (
    "`x-dlq-reason` (`empty`, `oversized`, `invalid_json`, `schema`, `key_mismatch`, `max_attempts`, "
    "`model_misbehaved`, `forged_provenance`, `permanent`, `unhandled`); `x-dlq-error`, `x-dlq-error-class` (what "
    "went wrong); "
    "`x-dlq-original-topic`, `-partition`, `-offset`, `-timestamp` (where the record first arrived); "
    "`x-dlq-consumer-group`, `x-dlq-attempts`, `x-dlq-failed-at` (who gave up, after how many tries, and when, "
    "in epoch ms). All header values are UTF-8 strings"
)


def default_settings() -> Settings:
    """The shipped defaults: `config/defaults.toml` passed explicitly, so it outranks any environment variable."""
    with DEFAULTS_FILE.open("rb") as f:
        return load_settings(**tomllib.load(f))


def _documented(payload: object) -> Callable[..., Awaitable[None]]:
    """A handler that only tells the generator the payload type of a channel."""

    async def delayed(record: object) -> None:
        """Documentation only; the real consumer is consumers/engine/ordered.py (through consumers/flows/delays.py)."""
        raise NotImplementedError(_NOT_HERE)

    delayed.__annotations__ = {"record": payload, "return": None}
    return delayed


def build_app(settings: Settings) -> FastStream:
    """A `FastStream` app whose broker declares every topic of `settings`; for the generator, never to be run."""
    routes = settings.routes()
    tickets, deletions = routes.tickets, routes.deletions
    payloads: dict[str, object] = {"tickets": TicketEvent, "deletions": DeletionRequest}
    names = {"tickets": "Ticket", "deletions": "Deletion"}
    routers: list[KafkaRouter] = []

    def endpoint() -> KafkaRouter:
        """A router for one subscriber or publisher, so that the document keeps the order of declaration."""
        routers.append(router := KafkaRouter())
        return router

    @endpoint().subscriber(
        tickets.topic, group_id=tickets.group, title="TicketEvents",
        description=f"Ticket events from the support desks, key = `account_id` (a record whose key differs is "
                    f"dead-lettered as `key_mismatch`). Consumed in group `{tickets.group}`, in order per account. "
                    f"Tolerant: unknown fields are ignored. Provenance headers (`x-retry-*`, `x-dlq-*`, "
                    f"`x-redriven-from`) set by a producer are ignored and counted.",
    )
    async def ticket_events(event: TicketEvent) -> None:
        """Documentation only; the real consumer is consumers/engine/ordered.py."""
        raise NotImplementedError(_NOT_HERE)

    @endpoint().subscriber(
        deletions.topic, group_id=deletions.group, title="DeletionRequests",
        description=f"Right-to-be-forgotten requests (e.g. from `ticket-enricher forget`), key = the subject's "
                    f"hash. Consumed in group `{deletions.group}`, so that a backlog of tickets never delays a "
                    f"deletion. Strict: a request with a field the contract does not define is dead-lettered "
                    f"(`schema`).",
    )
    async def deletion_requests(request: DeletionRequest) -> None:
        """Documentation only; the real consumer is consumers/engine/ordered.py."""
        raise NotImplementedError(_NOT_HERE)

    for route in routes.all:
        for tier in route.tiers:
            endpoint().subscriber(
                tier.topic, group_id=route.tier_group, title=f"{names[route.flow]}DelayTier{tier.seconds}s",
                description=f"Delay tier {tier.seconds}s of the {route.flow} flow: a copy of a record of "
                            f"`{route.topic}` that failed in a retryable way (original key, value and headers), run "
                            f"again through the same flow once due. Consumed in group `{route.tier_group}`. "
                            f"Headers added: {_RETRY_HEADERS}.",
            )(_documented(payloads[route.flow]))

    endpoint().publisher(
        routes.enriched, title="EnrichedAccountEvents", schema=EnrichedAccountEvent,
        description="One per processed ticket event, key = `account_id`. `event_id` is the input's, so consumers "
                    "can de-duplicate redeliveries.",
    )
    endpoint().publisher(
        routes.deletion_completed, title="DeletionCompleted", schema=DeletionCompleted,
        description="One per deletion request, key = `request_id`, once the delete is verified; the subject "
                    "appears only as hashes.",
    )
    for route in routes.all:
        endpoint().publisher(
            route.dlq, title=f"{names[route.flow]}DeadLetters", schema=bytes,
            description=f"Records of `{route.topic}` the worker gave up on: the original key, value (any bytes, not "
                        f"necessarily JSON) and headers, plus: {_DLQ_HEADERS}. `ticket-enricher dlq redrive` sends "
                        f"them back to `{route.topic}`.",
        )
        for tier in route.tiers:
            endpoint().publisher(
                tier.topic, title=f"{names[route.flow]}DelayTier{tier.seconds}sPublish",
                schema=payloads[route.flow],
                description=f"Where the {route.flow} flow sends a record that failed in a retryable way and should "
                            f"wait about {tier.seconds}s (the smallest tier at least as long as the wait); headers "
                            f"as on the {names[route.flow]}DelayTier{tier.seconds}s channel.",
            )

    broker = KafkaBroker(
        settings.kafka.bootstrap_servers, routers=routers,
        description="The Kafka cluster (default: the local broker of `ticket-enricher broker start`).",
    )
    return FastStream(
        broker,
        specification=AsyncAPI(title=TITLE, version=version("ticket-enricher"), description=DESCRIPTION),
    )


app = build_app(default_settings())
