"""The one place that decides what a failure means for a record: a delay tier, the dead-letter topic, a retry
in place, or done.

Nothing else decides retries. A retryable error (429, transient fault) sends the record to the smallest delay tier
of its route at least as long as the wait: the server's reset time when it gave one (cut to `retry.max_wait_seconds`),
else exponential back-off with jitter. The due time is now + that tier's delay (or the wait, when it is longer than
the largest tier), so records in one tier come due in the order they were written and waiting on the head is
correct. After the route's `max_attempts`, or at once for a permanent error, the record is dead-lettered with its
reason; a route without a limit (deletion requests) retries for as long as it takes. A refusal by our own limiter
(no call made) does not count as an attempt. While the model's breaker is open (`ModelUnavailable`, a `Held`) the
record is held in place: no attempt, no copy anywhere; the engine runs it again when the breaker lets calls through.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Literal

from ticket_enricher.config.routes import Route
from ticket_enricher.config.settings import RetrySettings
from ticket_enricher.core.errors import Held, PermanentFailure, RateLimited, RetryableError


@dataclass(frozen=True)
class Decision:
    action: Literal["delay", "dead_letter", "hold"]
    reason: str
    attempt: int  # attempts made so far, this one included
    topic: str | None = None
    due_ms: int | None = None
    wait_seconds: float | None = None


def backoff_seconds(attempt: int, retry: RetrySettings, rng: random.Random | None = None) -> float:
    """Exponential back-off with "equal jitter": half fixed, half random, never beyond the cap."""
    ceiling = min(retry.backoff_max_seconds, retry.backoff_base_seconds * 2.0 ** min(attempt - 1, 60))
    return ceiling / 2 + (rng or random).uniform(0, ceiling / 2)


def in_place_wait(attempt: int, retry: RetrySettings) -> float:
    """How long a record whose outcome could not be published (the broker unreachable, say) waits before the
    engine runs it again in place: doubling from `publish_retry_first_seconds` to `publish_retry_max_seconds`.
    Its account waits meanwhile and its partition's commit point stays behind it; nothing is lost."""
    return min(retry.publish_retry_max_seconds, retry.publish_retry_first_seconds * 2.0 ** min(attempt - 1, 60))


def decide(
    error: BaseException,
    *,
    attempt: int,
    route: Route,
    retry: RetrySettings,
    now_ms: int,
    rng: random.Random | None = None,
) -> Decision:
    if isinstance(error, Held):
        return Decision("hold", type(error).__name__, attempt - 1, wait_seconds=error.retry_after)
    if isinstance(error, RateLimited) and error.held_back:
        attempt -= 1  # our own limiter refused before any call: the event has not been tried again
    if isinstance(error, RetryableError):
        if route.max_attempts is not None and attempt >= route.max_attempts:
            return Decision("dead_letter", "max_attempts", attempt)
        server_wait = error.retry_after if isinstance(error, RateLimited) else None
        wait = server_wait if server_wait is not None else backoff_seconds(attempt, retry, rng)
        tier, delay = route.delay_for(wait)
        wait = min(wait, route.max_wait_seconds)
        return Decision("delay", type(error).__name__, attempt, tier.topic, now_ms + int(delay * 1000), wait)
    if isinstance(error, PermanentFailure):
        return Decision("dead_letter", error.reason, attempt)
    return Decision("dead_letter", "unhandled", attempt)
