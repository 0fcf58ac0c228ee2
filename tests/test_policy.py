"""The failure policy: which tier, when due, and when to give up."""

from __future__ import annotations

import random

import pytest

from ticket_enricher.config.settings import load_settings
from ticket_enricher.consumers.flows.policy import backoff_seconds, decide
from ticket_enricher.core.errors import InvalidEvent, PermanentFailure, RateLimited, TransientError

S = load_settings()  # tiers 5, 30, 300 s; 5 attempts
TICKETS = S.routes().tickets


@pytest.mark.parametrize(("wait", "tier", "delay"), [(0.5, 5, 5), (5, 5, 5), (6, 30, 30), (299, 300, 300),
                                                     (900, 300, 900)])
def test_the_servers_wait_picks_the_smallest_tier_at_least_as_long(wait: float, tier: int, delay: float) -> None:
    d = decide(RateLimited("model", wait), attempt=1, route=TICKETS, retry=S.retry, now_ms=1_000)
    assert d.action == "delay" and d.topic == f"support.tickets.delay.{tier}s"
    assert d.due_ms == 1_000 + int(delay * 1000)
    assert d.due_ms >= 1_000 + wait * 1000  # never before the server's reset


def test_without_a_server_wait_back_off_grows_with_jitter_under_the_cap() -> None:
    rng = random.Random(1)
    waits = [backoff_seconds(a, S.retry, rng) for a in range(1, 12)]
    for attempt, wait in enumerate(waits, start=1):
        ceiling = min(S.retry.backoff_max_seconds, S.retry.backoff_base_seconds * 2 ** (attempt - 1))
        assert ceiling / 2 <= wait <= ceiling
    d = decide(TransientError("502"), attempt=3, route=TICKETS, retry=S.retry, now_ms=0, rng=random.Random(2))
    assert d.action == "delay" and d.wait_seconds is not None and 4 <= d.wait_seconds <= 8
    assert d.topic == "support.tickets.delay.5s" or d.topic == "support.tickets.delay.30s"


def test_a_servers_wait_beyond_the_largest_wait_is_cut_to_it() -> None:
    d = decide(RateLimited("model", 86_400), attempt=1, route=TICKETS, retry=S.retry, now_ms=0)
    assert d.topic == "support.tickets.delay.300s" and d.due_ms == int(S.retry.max_wait_seconds * 1000)


def test_a_route_without_an_attempt_limit_never_gives_up_on_a_retryable_error() -> None:
    deletions = S.routes().deletions
    d = decide(TransientError("x"), attempt=10_000, route=deletions, retry=S.retry, now_ms=0, rng=random.Random(3))
    assert d.action == "delay" and d.topic is not None and d.topic.startswith("privacy.deletion-requests.delay.")
    assert decide(InvalidEvent("schema", "x"), attempt=1, route=deletions, retry=S.retry, now_ms=0).reason == "schema"


def test_give_up_after_max_attempts_and_at_once_on_permanent_errors() -> None:
    last = S.retry.max_attempts
    assert decide(TransientError("x"), attempt=last, route=TICKETS, retry=S.retry, now_ms=0).reason == "max_attempts"
    assert decide(InvalidEvent("schema", "x"), attempt=1, route=TICKETS, retry=S.retry, now_ms=0).reason == "schema"
    assert decide(PermanentFailure("x"), attempt=1, route=TICKETS, retry=S.retry, now_ms=0).action == "dead_letter"
    assert decide(ValueError("bug"), attempt=1, route=TICKETS, retry=S.retry, now_ms=0).reason == "unhandled"
