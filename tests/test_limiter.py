"""The adaptive limiter: AIMD on concurrency, a per-account gate after a 429, no call wasted on a known answer."""

from __future__ import annotations

import asyncio

import pytest

from ticket_enricher.core.errors import RateLimited, TransientError
from ticket_enricher.core.limiter import AdaptiveLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_success_increases_and_429_halves_the_limit_at_most_once_a_second() -> None:
    clock = Clock()
    limiter = AdaptiveLimiter("model", initial=8, clock=clock)
    async with limiter.slot("a"):
        pass
    assert limiter.limit == pytest.approx(8.125)
    limiter.on_rate_limited("a", 0.0)
    limiter.on_rate_limited("b", 0.0)  # the same burst: one decrease
    assert limiter.limit == pytest.approx(4.0625)
    clock.now += 1.5
    limiter.observe_remaining(0.01)
    assert limiter.limit == pytest.approx(2.03125)
    clock.now += 1.5
    limiter.observe_remaining(0.5)
    assert limiter.limit == pytest.approx(2.03125)
    for _ in range(5):
        clock.now += 1.5
        limiter.on_rate_limited("a", 0.0)
    assert limiter.limit == 1.0


async def test_a_long_gate_refuses_without_calling_and_spares_other_accounts() -> None:
    clock = Clock()
    limiter = AdaptiveLimiter("model", max_wait=2.0, clock=clock)
    with pytest.raises(RateLimited):
        async with limiter.slot("noisy"):
            raise RateLimited("model", 30.0)
    with pytest.raises(RateLimited) as caught:
        async with limiter.slot("noisy"):
            pytest.fail("the limiter must not let this call through")
    assert caught.value.retry_after == pytest.approx(30.0)
    assert limiter.refused_without_call == 1
    async with limiter.slot("quiet"):
        pass
    clock.now += 31
    async with limiter.slot("noisy"):
        pass


async def test_a_short_gate_waits_instead_of_failing() -> None:
    limiter = AdaptiveLimiter("model", max_wait=2.0)
    limiter.on_rate_limited("a", 0.2)
    loop = asyncio.get_running_loop()
    started = loop.time()
    async with limiter.slot("a"):
        waited = loop.time() - started
    assert 0.15 <= waited < 1.0


async def test_concurrency_never_exceeds_the_limit() -> None:
    limiter = AdaptiveLimiter("model", initial=3, maximum=3)
    peak = 0

    async def call(i: int) -> None:
        nonlocal peak
        async with limiter.slot(f"acct-{i}"):
            peak = max(peak, limiter.in_flight)
            await asyncio.sleep(0.01)

    await asyncio.gather(*(call(i) for i in range(20)))
    assert peak == 3 and limiter.in_flight == 0


def test_a_refusal_by_our_own_limiter_is_not_an_attempt() -> None:
    from ticket_enricher.config.settings import load_settings
    from ticket_enricher.consumers.flows.policy import decide

    settings = load_settings()
    held = RateLimited("model", 3.0, held_back=True)
    real = RateLimited("model", 3.0)
    last = settings.retry.max_attempts
    assert decide(held, attempt=last, route=settings.routes().tickets, retry=settings.retry, now_ms=0).action == "delay"
    tickets = settings.routes().tickets
    assert decide(real, attempt=last, route=tickets, retry=settings.retry, now_ms=0).action == "dead_letter"


async def test_memory_calls_to_mem0_are_paced_per_account(fake_mem0) -> None:
    from ticket_enricher.memory.limited import LimitedStore
    from ticket_enricher.memory.mem0 import Mem0MemoryStore, mem0_client
    from ticket_enricher.memory.store import EntityScope

    limiter = AdaptiveLimiter("mem0", max_wait=0)
    store = LimitedStore(Mem0MemoryStore(mem0_client(api_key=fake_mem0.api_key, base_url=fake_mem0.url)),
                         limiter)
    try:
        fake_mem0.fail_next(1, 429, {"Retry-After": "30"})
        with pytest.raises(RateLimited):
            await store.add("x", scope=EntityScope(user_id="acme"))
        sent = len(fake_mem0.requests)
        with pytest.raises(RateLimited) as caught:
            await store.search("x", filters={"user_id": "acme"})
        assert caught.value.held_back and len(fake_mem0.requests) == sent  # no call wasted
        await store.add("y", scope=EntityScope(user_id="globex"))  # another account is not held back
        assert (await store.list(filters={"user_id": "globex"})).count == 1
    finally:
        await store.close()


async def test_near_zero_remaining_from_mem0_headers_lowers_the_limit(fake_mem0) -> None:
    from ticket_enricher.core.ratelimit import remaining_fraction
    from ticket_enricher.memory.mem0 import Mem0MemoryStore, mem0_client

    limiter = AdaptiveLimiter("mem0", initial=8)
    store = Mem0MemoryStore(mem0_client(api_key=fake_mem0.api_key, base_url=fake_mem0.url,
                                        observe=lambda h: limiter.observe_remaining(remaining_fraction(h))))
    try:
        fake_mem0.fail_next(1, 503, {"RateLimit-Remaining": "1", "RateLimit-Limit": "100"})
        with pytest.raises(TransientError):
            await store.list(filters={"user_id": "acme"})
        assert limiter.limit == 4
    finally:
        await store.close()
