"""Which offset of a partition is safe to commit when records finish out of order.

Records of one partition run concurrently (different accounts) and finish in any order. The committed offset is
the position a restarted member resumes from, so it may only move past a record once that record and every
record before it are done: the commit point is the first fetched offset that is not done yet, or the last done
offset + 1 when none is pending. A crash then replays at most the records that were in flight.
"""

from __future__ import annotations

from collections import deque


class PartitionOffsets:
    """Fetched offsets of one partition, in fetch (increasing) order, and which of them are done."""

    def __init__(self) -> None:
        self._pending: deque[int] = deque()
        self._done: set[int] = set()
        self._next: int | None = None  # commit point once everything fetched so far is done
        self.committed: int | None = None  # last offset this member committed

    def fetched(self, offset: int) -> None:
        if self._pending and offset <= self._pending[-1]:
            raise ValueError(f"offset {offset} fetched after {self._pending[-1]}; offsets must increase")
        self._pending.append(offset)

    def done(self, offset: int) -> None:
        self._done.add(offset)
        while self._pending and self._pending[0] in self._done:
            first = self._pending.popleft()
            self._done.discard(first)
            self._next = first + 1

    def commit_point(self) -> int | None:
        """The offset to commit (the next one to consume), or None before any record is done."""
        if self._next is not None and self._pending:
            return self._pending[0]
        return self._next

    def uncommitted(self) -> int | None:
        """The commit point when it moved past what was last committed, else None."""
        point = self.commit_point()
        if point is None or (self.committed is not None and point <= self.committed):
            return None
        return point

    @property
    def outstanding(self) -> int:
        """Records fetched and not yet done (running or waiting)."""
        return len(self._pending) - len(self._done)
