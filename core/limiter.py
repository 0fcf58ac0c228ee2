"""An adaptive limiter for calls to a rate-limited service: AIMD on concurrency, and a gate per tenant after a 429.

- Additive increase, multiplicative decrease: each success raises the concurrency limit by 1/limit; a 429, or a
  response saying `ratelimit-remaining` is near zero, halves it (at most once a second), never below `minimum`.
  The worker starts it at its own ceiling (`worker.max_in_flight`): until the service says otherwise there is no
  reason to hold calls back, and a slow start from 8 took ~2,000 calls to reach 64 (bench/throughput.py).
- After a 429 for a tenant, that tenant's next calls wait for the server's reset time when it is short
  (≤ `max_wait`), or fail at once with `RateLimited` carrying the remaining wait, so no call is wasted on an
  answer already known and the consumer's policy puts the event in the right delay tier. Other tenants are not
  held back by one tenant's quota.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from ticket_enricher.core.errors import RateLimited

NEAR_ZERO = 0.05


class AdaptiveLimiter:
    def __init__(self, source: str, *, initial: float = 8, minimum: float = 1, maximum: float = 256,
                 max_wait: float = 2.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.source = source
        self.limit = float(initial)
        self.minimum = float(minimum)
        self.maximum = float(maximum)
        self.max_wait = max_wait
        self.in_flight = 0
        self.refused_without_call = 0
        self._clock = clock
        self._gates: dict[str, float] = {}
        self._last_decrease = -1e9
        self._changed = asyncio.Condition()

    def gate_wait(self, tenant: str) -> float:
        until = self._gates.get(tenant)
        if until is None:
            return 0.0
        wait = until - self._clock()
        if wait <= 0:
            del self._gates[tenant]
            return 0.0
        return wait

    @asynccontextmanager
    async def slot(self, tenant: str) -> AsyncIterator[None]:
        wait = self.gate_wait(tenant)
        if wait > self.max_wait:
            self.refused_without_call += 1
            raise RateLimited(self.source, wait, "held back by the limiter after an earlier 429", held_back=True)
        if wait > 0:
            await asyncio.sleep(wait)
        async with self._changed:
            await self._changed.wait_for(lambda: self.in_flight < max(1, int(self.limit)))
            self.in_flight += 1
        try:
            yield
        except RateLimited as exc:
            if not exc.held_back:
                self.on_rate_limited(tenant, exc.retry_after)
            raise
        else:
            self.limit = min(self.maximum, self.limit + 1.0 / self.limit)
        finally:
            async with self._changed:
                self.in_flight -= 1
                self._changed.notify_all()

    def on_rate_limited(self, tenant: str, retry_after: float | None) -> None:
        self._decrease()
        self._gates[tenant] = self._clock() + (retry_after if retry_after is not None else 1.0)

    def observe_remaining(self, fraction: float | None) -> None:
        """Feed `core.ratelimit.remaining_fraction(headers)` of every response here."""
        if fraction is not None and fraction <= NEAR_ZERO:
            self._decrease()

    def _decrease(self) -> None:
        now = self._clock()
        if now - self._last_decrease >= 1.0:
            self.limit = max(self.minimum, self.limit / 2)
            self._last_decrease = now
