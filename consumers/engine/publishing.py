"""The publishing port the flows use; the worker adapts aiokafka's producer to it. And `send_copy`, how a record
is copied to a delay tier or a dead-letter topic without ever getting stuck behind its own size."""

from __future__ import annotations

import asyncio
from typing import Any, Protocol

from aiokafka.errors import MessageSizeTooLargeError

from consumers.engine.records import Record

# (topic, value, key, headers)
Message = tuple[str, bytes | None, bytes | None, list[tuple[str, bytes]]]


class Publisher(Protocol):
    async def send(
        self,
        topic: str,
        *,
        value: bytes | None,
        key: bytes | None,
        headers: list[tuple[str, bytes]] | None = None,
    ) -> None:
        """Send and wait for the broker's acknowledgement."""
        ...

    async def send_many(self, messages: list[Message]) -> None:
        """Send all, in order, and wait for every acknowledgement (a batch's outputs)."""
        ...


class KafkaPublisher:
    """`Publisher` over one idempotent aiokafka producer (acks=all), started and stopped by the worker."""

    def __init__(self, connection: dict[str, Any] | str, client_id: str) -> None:
        """`connection`: `consumers.engine.connection.client_options(settings)`, or just bootstrap servers."""
        self.connection = connection if isinstance(connection, dict) else {"bootstrap_servers": connection}
        self.client_id = client_id
        self._producer: Any = None

    async def start(self) -> None:
        from aiokafka import AIOKafkaProducer

        self._producer = AIOKafkaProducer(
            **self.connection, client_id=self.client_id, acks="all",
            enable_idempotence=True, linger_ms=5,
        )
        await self._producer.start()

    async def stop(self) -> None:
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None

    async def send(
        self,
        topic: str,
        *,
        value: bytes | None,
        key: bytes | None,
        headers: list[tuple[str, bytes]] | None = None,
    ) -> None:
        await self._producer.send_and_wait(topic, value=value, key=key, headers=headers or [])

    async def send_many(self, messages: list[Message]) -> None:
        """Every message appended to the producer's batches first, then all acknowledgements awaited at once:
        one future each, not a task each (`send_and_wait` per message in a gather cost a task per event)."""
        acks = [await self._producer.send(topic, value=value, key=key, headers=headers)
                for topic, value, key, headers in messages]
        if acks:
            await asyncio.gather(*acks)


async def send_copy(publisher: Publisher, topic: str, record: Record, carried: list[tuple[str, bytes]],
                    ours: list[tuple[str, bytes]], dropped: str) -> None:
    """Copy `record` (key, value and the `carried` headers) to `topic` with the worker's headers `ours`. A copy the
    broker or client refuses as too large is sent again without the carried headers, then without the value,
    saying so in the header `dropped` (the original stays on its input topic until retention removes it)."""
    try:
        await publisher.send(topic, value=record.value, key=record.key, headers=carried + ours)
        return
    except MessageSizeTooLargeError:
        pass
    try:
        await publisher.send(topic, value=record.value, key=record.key, headers=ours + [(dropped, b"headers")])
    except MessageSizeTooLargeError:
        await publisher.send(topic, value=None, key=record.key, headers=ours + [(dropped, b"headers,value")])
