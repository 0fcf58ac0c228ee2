"""An in-memory `Publisher`: what a flow sent, per topic, in order; optionally refusing the next sends."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from aiokafka.errors import KafkaConnectionError


@dataclass(frozen=True)
class Sent:
    topic: str
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes]]

    def header(self, name: str) -> str | None:
        return next((v.decode() for k, v in self.headers if k == name), None)

    def json(self) -> Any:
        return json.loads(self.value or b"null")


@dataclass
class MemoryPublisher:
    sent: list[Sent] = field(default_factory=list)
    refuse: int = 0  # the next this-many sends fail as if the broker were unreachable

    async def send(self, topic: str, *, value: bytes | None, key: bytes | None,
                   headers: list[tuple[str, bytes]] | None = None) -> None:
        if self.refuse:
            self.refuse -= 1
            raise KafkaConnectionError("the broker is unreachable (in-memory publisher)")
        self.sent.append(Sent(topic, key, value, list(headers or [])))

    async def send_many(self, messages: list[tuple[str, bytes | None, bytes | None, list[tuple[str, bytes]]]]
                        ) -> None:
        for topic, value, key, headers in messages:
            await self.send(topic, value=value, key=key, headers=headers)

    def on(self, topic: str) -> list[Sent]:
        return [s for s in self.sent if s.topic == topic]
