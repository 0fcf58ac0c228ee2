"""The publishing port the flows use; the worker adapts aiokafka's producer to it."""

from __future__ import annotations

from typing import Protocol


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


class KafkaPublisher:
    """`Publisher` over one idempotent aiokafka producer (acks=all), started and stopped by the worker."""

    def __init__(self, bootstrap_servers: str, client_id: str) -> None:
        from aiokafka import AIOKafkaProducer

        self._producer = AIOKafkaProducer(
            bootstrap_servers=bootstrap_servers, client_id=client_id, acks="all", enable_idempotence=True,
            linger_ms=5,
        )

    async def start(self) -> None:
        await self._producer.start()

    async def stop(self) -> None:
        await self._producer.stop()

    async def send(
        self,
        topic: str,
        *,
        value: bytes | None,
        key: bytes | None,
        headers: list[tuple[str, bytes]] | None = None,
    ) -> None:
        await self._producer.send_and_wait(topic, value=value, key=key, headers=headers or [])
