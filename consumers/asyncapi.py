"""The AsyncAPI document of every topic the worker reads or writes, and of its payloads, for FastStream's generator.

`docs/asyncapi.yaml` is generated from this module by FastStream's own generator (`make docs`, i.e.
`faststream docs gen consumers.asyncapi:app --yaml --out docs/asyncapi.yaml`), and `tests/test_asyncapi.py`
fails when it is not current. The topics are declared here, on a `KafkaBroker` that never connects, because the
runtime consumers are not FastStream subscribers (they are `consumers.ordered.KeyOrderedConsumer`s on aiokafka;
its docstring says why): the handlers below never run and exist only so the generator sees the payload types.

Topic names, groups and the server come from the shipped defaults (`config/defaults.toml`) and never from
`TICKET_ENRICHER_*` variables, so the document is the same in every shell.

Each endpoint is declared on a router of its own: a FastStream broker keeps its own subscribers and publishers in
a `WeakSet`, which iterates in memory-address order, so the channels of one broker came out in a different order
from run to run; routers are kept in a list, so this way the document follows the order of declaration.
"""

from __future__ import annotations

import tomllib
from importlib.metadata import version

from faststream import FastStream
from faststream.kafka import KafkaBroker, KafkaRouter
from faststream.specification import AsyncAPI

from config.settings import DEFAULTS_FILE, Settings, load_settings
from core.events import DeletionCompleted, DeletionRequest, EnrichedAccountEvent, TicketEvent

TITLE = "ticket-enricher"
DESCRIPTION = (
    "A Kafka worker that enriches support-ticket events with long-term account memory and churn tags, and "
    "carries out right-to-be-forgotten requests. Delivery is at-least-once and every effect is idempotent.\n\n"
    "Generated from `consumers/asyncapi.py` with `make docs`; do not edit by hand."
)
_NOT_HERE = "documentation only: the real consumer is consumers/ordered.py (KeyOrderedConsumer)"

_RETRY_HEADERS = (
    "`x-retry-attempt` (attempts made so far), `x-retry-due-ms` (epoch ms before which it must not run), "
    "`x-retry-original-topic`, `-partition`, `-offset`, `-timestamp` (where it first arrived), "
    "`x-retry-consumer-group` (the group that failed it), `x-retry-error-class`, `x-retry-error` (the last failure)"
)
_DLQ_HEADERS = (
    "`x-dlq-reason` (`empty`, `oversized`, `invalid_json`, `schema`, `key_mismatch`, `max_attempts`, "
    "`model_misbehaved`, `permanent`, `unhandled`); `x-dlq-error`, `x-dlq-error-class` (what went wrong); "
    "`x-dlq-original-topic`, `-partition`, `-offset`, `-timestamp` (where the record first arrived); "
    "`x-dlq-consumer-group`, `x-dlq-attempts`, `x-dlq-failed-at` (who gave up, after how many tries, and when, "
    "in epoch ms). All header values are UTF-8 strings"
)


def default_settings() -> Settings:
    """The shipped defaults: `config/defaults.toml` passed explicitly, so it outranks any environment variable."""
    with DEFAULTS_FILE.open("rb") as f:
        return load_settings(**tomllib.load(f))


def build_app(settings: Settings) -> FastStream:
    """A `FastStream` app whose broker declares every topic of `settings`; for the generator, never to be run."""
    topics, group = settings.topics, settings.kafka.group_id
    routers: list[KafkaRouter] = []

    def endpoint() -> KafkaRouter:
        """A router for one subscriber or publisher, so that the document keeps the order of declaration."""
        routers.append(router := KafkaRouter())
        return router

    @endpoint().subscriber(
        topics.tickets, group_id=group, title="TicketEvents",
        description=f"Ticket events from the support desks, key = `account_id` (a record whose key differs is "
                    f"dead-lettered as `key_mismatch`). Consumed in group `{group}`, in order per account.",
    )
    async def ticket_events(event: TicketEvent) -> None:
        """Documentation only; the real consumer is consumers/ordered.py."""
        raise NotImplementedError(_NOT_HERE)

    @endpoint().subscriber(
        topics.deletion_requests, group_id=f"{group}.privacy", title="DeletionRequests",
        description=f"Right-to-be-forgotten requests (e.g. from `ticket-enricher forget`), key = the subject's "
                    f"hash. Consumed in group `{group}.privacy`, so that a backlog of tickets never delays a deletion.",
    )
    async def deletion_requests(request: DeletionRequest) -> None:
        """Documentation only; the real consumer is consumers/ordered.py."""
        raise NotImplementedError(_NOT_HERE)

    delays = settings.delay_topics()
    for topic, seconds in delays.items():
        @endpoint().subscriber(
            topic, group_id=f"{group}.delays", title=f"DelayTier{seconds}s",
            description=f"Delay tier {seconds}s: a copy of a ticket event or deletion request that failed in a "
                        f"retryable way (original key, value and headers), run again through the flow of its "
                        f"original topic once due. Consumed in group `{group}.delays`. Headers added: "
                        f"{_RETRY_HEADERS}.",
        )
        async def delayed(record: TicketEvent | DeletionRequest) -> None:
            """Documentation only; the real consumer is consumers/ordered.py (through consumers/delays.py)."""
            raise NotImplementedError(_NOT_HERE)

    endpoint().publisher(
        topics.enriched, title="EnrichedAccountEvents", schema=EnrichedAccountEvent,
        description="One per processed ticket event, key = `account_id`. `event_id` is the input's, so consumers "
                    "can de-duplicate redeliveries.",
    )
    endpoint().publisher(
        topics.deletion_completed, title="DeletionCompleted", schema=DeletionCompleted,
        description="One per deletion request, key = `request_id`, once the delete is verified; the subject "
                    "appears only as hashes.",
    )
    endpoint().publisher(
        topics.dlq, title="DeadLetters", schema=bytes,
        description=f"Records the worker gave up on, from any topic it reads: the original key, value (any bytes, "
                    f"not necessarily JSON) and headers, plus: {_DLQ_HEADERS}. `ticket-enricher dlq redrive` sends "
                    f"them back to their original topic.",
    )
    for topic, seconds in delays.items():
        endpoint().publisher(
            topic, title=f"DelayTier{seconds}sPublish", schema=TicketEvent | DeletionRequest,
            description=f"Where the ticket and deletion flows send a record that failed in a retryable way and "
                        f"should wait about {seconds}s (the smallest tier at least as long as the wait); headers as "
                        f"on the DelayTier{seconds}s channel.",
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
