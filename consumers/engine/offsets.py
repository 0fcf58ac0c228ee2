"""Which offset of a partition is safe to commit when records finish out of order, and which beyond it are done.

Records of one partition run concurrently (different accounts) and finish in any order. The committed offset is
the position a restarted member resumes from, so it may only move past a record once that record and every
record before it are done: the commit point is the first fetched offset that is not done yet, or the last done
offset + 1 when none is pending.

Records finished beyond the commit point travel in the commit's metadata (as Confluent's Parallel Consumer
does): a bitmap relative to the commit point, zlib-compressed and base64-encoded. The partition's next owner
reads it and skips those records, so a crash or a hand-over replays only the records that were in flight.
"""

from __future__ import annotations

import base64
import zlib
from collections import deque

from ticket_enricher.core.errors import EngineMisuse

METADATA_PREFIX = "te1:"
MAX_METADATA_CHARS = 3500  # brokers refuse more than offset.metadata.max.bytes (4096 by default)


def encode_done(point: int, done: list[int]) -> str:
    """Metadata for `done` offsets (all > `point`); empty when there are none or they do not fit."""
    if not done:
        return ""
    bits = bytearray((done[-1] - point) // 8 + 1)
    for offset in done:
        delta = offset - point
        bits[delta // 8] |= 1 << (delta % 8)
    text = METADATA_PREFIX + base64.b64encode(zlib.compress(bytes(bits))).decode()
    return text if len(text) <= MAX_METADATA_CHARS else ""


def decode_done(point: int, metadata: str | None) -> set[int]:
    """The offsets `encode_done` wrote; nothing for metadata that is not ours or is damaged."""
    if not metadata or not metadata.startswith(METADATA_PREFIX):
        return set()
    try:
        bits = zlib.decompress(base64.b64decode(metadata[len(METADATA_PREFIX):], validate=True))
    except (ValueError, zlib.error):
        return set()
    return {point + i * 8 + b for i, byte in enumerate(bits) for b in range(8) if byte >> b & 1}


class PartitionOffsets:
    """Fetched offsets of one partition, in fetch (increasing) order, and which of them are done."""

    def __init__(self, already_done: set[int] | None = None) -> None:
        self._pending: deque[int] = deque()
        self._done: set[int] = set()
        self._next: int | None = None  # commit point once everything fetched so far is done
        self.first_fetched: int | None = None
        self.last_fetched: int | None = None
        self.committed: tuple[int, str] | None = None  # last (offset, metadata) this member committed
        self.already_done = already_done or set()  # finished by a previous owner: skip when fetched

    def fetched(self, offset: int) -> None:
        if self.last_fetched is not None and offset <= self.last_fetched:
            raise EngineMisuse(f"offset {offset} fetched after {self.last_fetched}; offsets must increase")
        self._pending.append(offset)
        if self.first_fetched is None:
            self.first_fetched = offset
        self.last_fetched = offset

    def done(self, offset: int) -> None:
        self._done.add(offset)
        while self._pending and self._pending[0] in self._done:
            first = self._pending.popleft()
            self._done.discard(first)
            self._next = first + 1

    def commit_point(self) -> int | None:
        """The offset to commit (the next one to consume): the first one not done; None before any fetch."""
        if self._pending:
            return self._pending[0]
        return self._next

    def uncommitted(self) -> tuple[int, str] | None:
        """(commit point, metadata) when either changed since the last commit, else None."""
        point = self.commit_point()
        if point is None or (self._next is None and not self._done):
            return None  # nothing finished yet: nothing to tell
        current = (point, encode_done(point, sorted(self._done)))
        if self.committed is not None and (current == self.committed or point < self.committed[0]):
            return None
        return current

    def finished_since(self, start: int) -> set[int]:
        """Offsets >= `start` this tracker knows are done: below the commit point, or done beyond it."""
        point = self.commit_point()
        if point is None or self.first_fetched is None:
            return set()
        return set(range(max(start, self.first_fetched), point)) | {o for o in self._done if o >= start}

    @property
    def outstanding(self) -> int:
        """Records fetched and not yet done (running or waiting)."""
        return len(self._pending) - len(self._done)
