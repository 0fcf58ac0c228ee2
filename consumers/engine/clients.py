"""The one place aiokafka clients are made: every consumer, producer and admin client of the project comes from a
`KafkaClients`, built from the settings' connection (bootstrap servers and security, `engine.connection`).

Client ids are formatted here only: `<client_id>-<role>` (`<client_id>-status`, `-replay`, `-lag`, ...), and the
bare `<client_id>` for the worker's ticket consumer and its producer. `scoped(role)` gives a factory whose own
clients are named under that role: a consumer scoped to `privacy` is `<client_id>-privacy`, the admin client that
reads its commit metadata `<client_id>-privacy-offsets`. Brokers log, throttle and `ticket-enricher status` shows
members by these ids.

A client that was made and never stopped makes aiokafka warn "Unclosed AIOKafkaConsumer" (a ResourceWarning),
whether or not it started; a start that fails (an unreachable broker) leaves it made. So a client is made just
before it is started, with `opened` (stopped on the way out) or `started` (stopped at once when the start fails).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient

from ticket_enricher.consumers.engine.connection import client_options

if TYPE_CHECKING:
    from ticket_enricher.config.settings import Settings

Client = TypeVar("Client", AIOKafkaConsumer, AIOKafkaProducer, AIOKafkaAdminClient)


class KafkaClients:
    """Builds aiokafka clients on one connection, named `<client_id>-<role>`; it holds no connection itself."""

    def __init__(self, connection: Mapping[str, Any], client_id: str = "ticket-enricher") -> None:
        """`connection`: `engine.connection.client_options(settings)` (bootstrap servers and security options)."""
        self.connection = dict(connection)
        self.base_id = client_id

    @classmethod
    def from_settings(cls, settings: Settings) -> KafkaClients:
        """The worker's clients: `kafka.*` settings, KAFKA_SASL_PASSWORD, client id `kafka.client_id`."""
        return cls(client_options(settings), settings.kafka.client_id)

    @classmethod
    def plaintext(cls, bootstrap_servers: str, client_id: str = "ticket-enricher") -> KafkaClients:
        """Clients of an unauthenticated PLAINTEXT listener (the local broker of tests and benchmarks)."""
        return cls({"bootstrap_servers": bootstrap_servers}, client_id)

    def client_id(self, role: str | None = None) -> str:
        return self.base_id if role is None else f"{self.base_id}-{role}"

    def scoped(self, role: str | None) -> KafkaClients:
        """The same connection, with clients named under `role` (None: these very clients)."""
        return self if role is None else KafkaClients(self.connection, self.client_id(role))

    def consumer(self, role: str | None = None, **options: Any) -> AIOKafkaConsumer:
        """A consumer, not started; it commits nothing by itself (`enable_auto_commit` off unless given)."""
        return AIOKafkaConsumer(**self.connection, client_id=self.client_id(role),
                                **{"enable_auto_commit": False, **options})

    def producer(self, role: str | None = None, **options: Any) -> AIOKafkaProducer:
        """A producer, not started."""
        return AIOKafkaProducer(**self.connection, client_id=self.client_id(role), **options)

    def admin(self, role: str | None = None, **options: Any) -> AIOKafkaAdminClient:
        """An admin client, not started."""
        return AIOKafkaAdminClient(**self.connection, client_id=self.client_id(role), **options)


async def close(client: AIOKafkaConsumer | AIOKafkaProducer | AIOKafkaAdminClient) -> None:
    """Stop a client; harmless when it never started or is stopped already."""
    if isinstance(client, AIOKafkaAdminClient):
        await client.close()
    else:
        await client.stop()


async def started(client: Client) -> Client:
    """`client`, started; when its start fails, stopped before the error goes on."""
    try:
        await client.start()
        # let the tasks the start created run to their first wait: a consumer without a group stopped before its
        # committed-offsets task ever ran raises CancelledError from stop() (aiokafka 0.14, NoGroupCoordinator)
        await asyncio.sleep(0)
    except BaseException:
        await close(client)
        raise
    return client


@asynccontextmanager
async def opened(client: Client) -> AsyncIterator[Client]:
    """`async with opened(clients.admin("status")) as admin:` started, and stopped however the block ends."""
    await started(client)
    try:
        yield client
    finally:
        await close(client)
