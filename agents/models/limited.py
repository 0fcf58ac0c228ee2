"""The model as the worker calls it: within the shared budget (`core.budget`: reserved before, settled after),
behind the breaker (`core.breaker`) and, unless switched off, the adaptive limiter (`core.limiter`: every call
takes a slot for the event's account), every call observed (tokens, cost, duration) so that what the model costs is
counted when it is paid, whatever becomes of the event.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, Protocol, cast

from ticket_enricher.agents.export import SchemaFiller
from ticket_enricher.agents.models import Model, ModelRequest, ModelTurn, Usage
from ticket_enricher.agents.models.costs import cost_usd
from ticket_enricher.config.settings import Price
from ticket_enricher.core.breaker import Breaker
from ticket_enricher.core.budget import Budget, Estimator, Reservation
from ticket_enricher.core.errors import EnricherError, RateLimited, TransientError
from ticket_enricher.core.limiter import AdaptiveLimiter

log = logging.getLogger("ticket_enricher.model")


class ModelObserver(Protocol):
    """Told of every paid call and of the breaker (the worker's metrics; `eval`'s tally)."""

    def limit(self, level: float) -> None: ...

    def called(self, model: str, usage: Usage, seconds: float, cost: float | None) -> None: ...

    def breaker(self, is_open: bool, reason: str) -> None: ...


class Tally:
    """A `ModelObserver` that adds up what was paid: `eval` reports it per 1,000 events."""

    def __init__(self) -> None:
        self.usage = Usage()
        self.cost: float | None = None
        self.seconds = 0.0
        self.breaker_opened = 0

    def limit(self, level: float) -> None:
        """Not needed for a tally."""

    def called(self, model: str, usage: Usage, seconds: float, cost: float | None) -> None:
        self.usage = self.usage + usage
        self.seconds += seconds
        if cost is not None:
            self.cost = (self.cost or 0.0) + cost

    def breaker(self, is_open: bool, reason: str) -> None:
        self.breaker_opened += is_open


class LimitedModel:
    def __init__(self, model: Model, breaker: Breaker, limiter: AdaptiveLimiter | None = None, *,
                 observer: ModelObserver | None = None, price: Price | None = None,
                 budget: Budget | None = None, max_output_tokens: int = 512) -> None:
        self.model = model
        self.budget = budget
        self.estimator = Estimator(max_output_tokens)
        self.breaker = breaker
        self.limiter = limiter
        self.name = model.name
        self.observer = observer
        self.price = price

    async def close(self) -> None:
        await self.model.close()

    async def fill(self, schema: dict[str, Any], instructions: str, content: str) -> dict[str, Any]:
        """A structured export through the model (`agents.export`), in the limiter's shared slot."""
        # Not every `Model` fills schemas (OpenAIModel does); one that does not raises AttributeError here.
        fill = cast(SchemaFiller, self.model).fill
        if self.limiter is None:
            return await fill(schema, instructions, content)
        async with self.limiter.slot("*"):
            return await fill(schema, instructions, content)

    async def respond(self, request: ModelRequest) -> ModelTurn:
        """One call within the budget: reserved from an estimate first (`OverBudget` when there is no room: no call,
        not an attempt), settled with what the server reported, given back when no answer came."""
        if self.budget is None:
            return await self._respond(request)
        if not self.estimator.ratios:  # this member's first call: learn the server's count before a burst
            async with self.estimator.first:
                if not self.estimator.ratios:
                    return await self._within_budget(request)
        return await self._within_budget(request)

    async def _within_budget(self, request: ModelRequest) -> ModelTurn:
        chars = (len(request.instructions) + len(request.ticket.model_dump_json())
                 + sum(len(ex.model_dump_json()) for ex in request.history)
                 + sum(len(t.model_dump_json()) for t in request.tools))
        reservation = await self._reserve(request.ticket.account_id, chars)
        try:
            turn = await self._respond(request)
        except BaseException:
            await self._settle(reservation, Usage())
            raise
        self.estimator.learn(chars, turn.usage.input_tokens)
        await self._settle(reservation, turn.usage)
        return turn

    async def _reserve(self, account: str, chars: int) -> Reservation:
        assert self.budget is not None
        tokens, prompt = self.estimator.tokens(chars), self.estimator.prompt(chars)
        output = self.estimator.max_output_tokens
        usd = cost_usd(Usage(input_tokens=prompt, output_tokens=output), self.price) or 0.0
        return await self.budget.reserve(account, tokens, usd)

    async def _settle(self, reservation: Reservation, usage: Usage) -> None:
        assert self.budget is not None
        try:
            await self.budget.settle(reservation, usage.input_tokens + usage.output_tokens,
                                     cost_usd(usage, self.price) or 0.0)
        except Exception as error:  # noqa: BLE001 - the estimate stays charged: the budget errs on the safe side
            log.warning("could not settle a model call with the budget (its estimate stays charged): %s", error)

    async def _respond(self, request: ModelRequest) -> ModelTurn:
        self.breaker.admit()  # raises ModelUnavailable while the breaker is open
        started = time.perf_counter()
        try:
            if self.limiter is None:
                turn = await self.model.respond(request)
            else:
                async with self.limiter.slot(request.ticket.account_id):
                    turn = await self.model.respond(request)
        except TransientError as error:
            held = self.breaker.failed(error)
            if held is not None:
                raise held from error
            raise
        except RateLimited as error:
            if error.held_back:  # our own limiter refused before any call
                self.breaker.abandoned()
            else:
                self.breaker.succeeded()  # the server answered: it is up
            raise
        except EnricherError:
            self.breaker.succeeded()  # the server answered (a refusal, a bad answer): it is up
            raise
        except (Exception, asyncio.CancelledError):
            self.breaker.abandoned()
            raise
        finally:
            if self.observer is not None and self.limiter is not None:
                self.observer.limit(self.limiter.limit)
        self.breaker.succeeded()
        if self.observer is not None:
            self.observer.called(self.name, turn.usage, time.perf_counter() - started, cost_usd(turn.usage, self.price))
        return turn
