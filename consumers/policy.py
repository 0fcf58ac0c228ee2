"""The one place that decides what a failure means for a record: a delay tier, the dead-letter topic, or done.

Nothing else retries. A retryable error (429, transient fault) sends the record to the smallest delay tier at
least as long as the wait: the server's reset time when it gave one, else exponential back-off with jitter. The
due time is now + that tier's delay (or the wait, when it is longer than the largest tier), so records in one tier
come due in the order they were written and waiting on the head is correct. After `max_attempts`, or at once for
a permanent error, the record is dead-lettered with its reason. A refusal by our own limiter (no call made) does
not count as an attempt.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Literal

from config.settings import RetrySettings, TopicSettings
from core.errors import PermanentFailure, RateLimited, RetryableError


@dataclass(frozen=True)
class Decision:
    action: Literal["delay", "dead_letter"]
    reason: str
    attempt: int  # attempts made so far, this one included
    topic: str | None = None
    due_ms: int | None = None
    wait_seconds: float | None = None


def backoff_seconds(attempt: int, retry: RetrySettings, rng: random.Random | None = None) -> float:
    """Exponential back-off with "equal jitter": half fixed, half random, never beyond the cap."""
    ceiling = min(retry.backoff_max_seconds, retry.backoff_base_seconds * 2 ** (attempt - 1))
    return ceiling / 2 + (rng or random).uniform(0, ceiling / 2)


def decide(
    error: BaseException,
    *,
    attempt: int,
    retry: RetrySettings,
    topics: TopicSettings,
    now_ms: int,
    rng: random.Random | None = None,
    give_up: bool = True,
) -> Decision:
    """`give_up=False`: retryable errors are retried for ever (a deletion request must never be dropped)."""
    if isinstance(error, RateLimited) and error.held_back:
        attempt -= 1  # our own limiter refused before any call: the event has not been tried again
    if isinstance(error, RetryableError):
        if give_up and attempt >= retry.max_attempts:
            return Decision("dead_letter", "max_attempts", attempt)
        server_wait = error.retry_after if isinstance(error, RateLimited) else None
        wait = server_wait if server_wait is not None else backoff_seconds(attempt, retry, rng)
        tier = next((t for t in retry.tiers_seconds if t >= wait), retry.tiers_seconds[-1])
        delay = max(float(tier), wait)
        return Decision("delay", type(error).__name__, attempt, topics.delay_topic(tier),
                        now_ms + int(delay * 1000), wait)
    if isinstance(error, PermanentFailure):
        return Decision("dead_letter", error.reason, attempt)
    return Decision("dead_letter", "unhandled", attempt)
