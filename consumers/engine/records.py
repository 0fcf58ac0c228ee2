"""A neutral view of one consumed Kafka record, so flows and tests need no FastStream or aiokafka types."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Record:
    topic: str
    partition: int
    offset: int
    timestamp_ms: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes | None], ...] = field(default_factory=tuple)

    @classmethod
    def from_kafka(cls, r: Any) -> Record:
        """From an aiokafka `ConsumerRecord`."""
        return cls(topic=r.topic, partition=r.partition, offset=r.offset, timestamp_ms=r.timestamp, key=r.key,
                   value=r.value, headers=tuple(r.headers))

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key == name and value is not None:
                return value.decode("utf-8", errors="replace")
        return None
