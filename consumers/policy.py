"""The one place that decides what a failure means for the record: dead-letter it, or leave it for redelivery.

Retryable errors (429s, transient faults) leave the offset uncommitted so the record comes back; everything
else is dead-lettered with a reason code, so one bad record never stops the partition.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from core.errors import PermanentFailure, RetryableError


@dataclass(frozen=True)
class Decision:
    action: Literal["dead_letter", "redeliver"]
    reason: str


def decide(error: BaseException) -> Decision:
    if isinstance(error, RetryableError):
        return Decision("redeliver", type(error).__name__)
    if isinstance(error, PermanentFailure):
        return Decision("dead_letter", error.reason)
    return Decision("dead_letter", "unhandled")
