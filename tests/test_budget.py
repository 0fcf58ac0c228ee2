"""The shared model budget (`core.budget`) on its real ledgers (a SQLite file two connections share, a PostgreSQL
database two pools share): a minute's tokens at once, then the rate; day limits per group and account; parking
that keeps an account's order; settlement; the replay's own bucket; the policy's reading of a refusal."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ticket_enricher.agents.models import ModelRequest, ModelTurn, ToolSpec, Usage
from ticket_enricher.agents.models.limited import LimitedModel
from ticket_enricher.config.routes import build_routes
from ticket_enricher.config.settings import RetrySettings
from ticket_enricher.consumers.flows.policy import decide
from ticket_enricher.core.breaker import Breaker
from ticket_enricher.core.budget import Budget, BudgetLedger, Limits, retrying, until_midnight
from ticket_enricher.core.errors import OverBudget
from ticket_enricher.core.events import Ticket, TicketEvent
from ticket_enricher.memory.budget_ledger import LocalLedger, PostgresLedger, SqliteLedger

MINUTE = 6_000.0  # tokens: 100 a second
NOON = 1_800_000_000.0 - 1_800_000_000.0 % 86_400 + 43_200  # a UTC noon


class Clock:
    def __init__(self, now: float = NOON) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def two_ledgers(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[tuple[BudgetLedger, ...]]:
    """Two ledgers on one shared store, as two members have them."""
    if request.param == "sqlite":
        ledgers: tuple[BudgetLedger, ...] = (SqliteLedger(tmp_path / "m.db"), SqliteLedger(tmp_path / "m.db"))
    else:
        dsn = request.getfixturevalue("postgres_dsn")
        ledgers = (PostgresLedger(dsn, password=None), PostgresLedger(dsn, password=None))
    try:
        yield ledgers
    finally:
        for ledger in ledgers:
            await ledger.close()


def budget(ledger: BudgetLedger, clock: Clock, due_after: Callable[[float], float] = lambda w: w,
           **limits: float) -> Budget:
    return Budget(ledger, "g", Limits(**limits), due_after=due_after, clock=clock)


async def test_two_members_spend_a_minute_at_once_then_no_more_than_the_rate(
    two_ledgers: tuple[BudgetLedger, ...]
) -> None:
    clock = Clock()
    members = [budget(ledger, clock, minute_tokens=MINUTE) for ledger in two_ledgers]
    spent: list[tuple[float, float]] = []  # (time since start, tokens)
    rng = random.Random(7)
    refused = 0
    for _step in range(400):
        clock.now += rng.uniform(0.0, 0.5)
        calls = [m.reserve(f"acct-{rng.randrange(20)}", rng.choice([150, 400, 900])) for m in members]
        for result in await asyncio.gather(*calls, return_exceptions=True):
            if isinstance(result, OverBudget):
                refused += 1
                assert result.reason in {"group_minute", "account_order"} and (result.retry_after or 0) > 0
            elif isinstance(result, BaseException):
                raise result
            else:
                spent.append((clock.now - NOON, result.tokens))
    assert refused > 0 and spent
    total, horizon = 0.0, 0.0
    for moment, tokens in spent:  # over every stretch from the start: minute + rate x t
        total += tokens
        horizon = moment
        assert total <= MINUTE + MINUTE / 60 * moment + 1e-6
    assert total >= MINUTE / 60 * horizon * 0.8  # and the rate is actually used, not starved


async def test_concurrent_reservations_never_take_the_same_tokens(two_ledgers: tuple[BudgetLedger, ...]) -> None:
    clock = Clock()
    members = [budget(ledger, clock, minute_tokens=1_000) for ledger in two_ledgers]
    results = await asyncio.gather(*(members[i % 2].reserve(f"a{i}", 100) for i in range(40)),
                                   return_exceptions=True)
    granted = [r for r in results if not isinstance(r, BaseException)]
    assert len(granted) == 10  # the clock stands still: exactly one minute's tokens
    assert all(isinstance(r, OverBudget) for r in results if isinstance(r, BaseException))


async def test_an_account_over_its_day_waits_till_midnight_and_the_others_go_on(
    two_ledgers: tuple[BudgetLedger, ...]
) -> None:
    clock = Clock()
    first, second = (budget(ledger, clock, account_day_tokens=1_000) for ledger in two_ledgers)
    await first.reserve("hot", 600)
    with pytest.raises(OverBudget) as refused:
        await second.reserve("hot", 600)
    assert refused.value.reason == "account_day"
    assert refused.value.retry_after == pytest.approx(until_midnight(clock.now)) and refused.value.held_back
    for i in range(5):
        await second.reserve(f"calm-{i}", 900)  # every other account goes on
    clock.now += until_midnight(clock.now) + 1
    with retrying():  # the parked event itself, back from its tier after midnight
        await first.reserve("hot", 600)


async def test_settling_gives_back_what_the_estimate_overstated(two_ledgers: tuple[BudgetLedger, ...]) -> None:
    clock = Clock()
    first, second = (budget(ledger, clock, minute_tokens=1_000, day_tokens=5_000) for ledger in two_ledgers)
    held = await first.reserve("a", 900)
    with pytest.raises(OverBudget):
        await second.reserve("b", 900)
    await first.settle(held, 200)
    await second.reserve("c", 700)  # 1,000 - 200 left 800
    rows = await two_ledgers[0].rows("group:")
    assert rows["group:g"].tokens == pytest.approx(900)  # the day counts what was paid plus what is reserved


async def test_a_parked_account_keeps_its_order_and_its_retried_event_goes_first(
    two_ledgers: tuple[BudgetLedger, ...]
) -> None:
    clock = Clock()
    tiers = lambda wait: max(5.0, wait)  # noqa: E731 - the smallest delay tier is 5 s
    member = budget(two_ledgers[0], clock, tiers, minute_tokens=600)
    other = budget(two_ledgers[1], clock, tiers, minute_tokens=600)
    await member.reserve("a", 600)
    with pytest.raises(OverBudget) as first:
        await member.reserve("a", 30)  # event 1 of a: waits 3 s (10 tokens a second), back from the 5 s tier
    assert first.value.reason == "group_minute"
    clock.now += 4  # the bucket has room again, but event 1 is not back yet
    with pytest.raises(OverBudget) as second:
        await other.reserve("a", 10)  # a fresh event 2 of a waits behind it, on the other member too
    assert second.value.reason == "account_order" and second.value.retry_after == pytest.approx(1.001)
    await other.reserve("b", 10)  # another account is not held
    clock.now += 1.5
    with retrying():
        await member.reserve("a", 30)  # event 1, back from its tier
    clock.now += 5
    with retrying():
        await other.reserve("a", 10)  # then event 2


async def test_a_replay_has_a_bucket_of_its_own_inside_the_groups() -> None:
    clock = Clock()
    ledger = LocalLedger()
    live = budget(ledger, clock, minute_tokens=1_000)
    replay = budget(ledger, clock, minute_tokens=1_000, replay_minute_tokens=300)
    await replay.reserve("r1", 300)
    with pytest.raises(OverBudget) as refused:
        await replay.reserve("r2", 100)
    assert refused.value.reason == "replay_minute"
    await live.reserve("l1", 700)  # the live stream keeps the rest
    with pytest.raises(OverBudget):
        await live.reserve("l2", 100)


async def test_dollars_per_day_are_a_limit_too() -> None:
    clock = Clock()
    member = budget(LocalLedger(), clock, day_usd=1.0)
    await member.reserve("a", 10, usd=0.6)
    with pytest.raises(OverBudget) as refused:
        await member.reserve("b", 10, usd=0.6)
    assert refused.value.reason == "group_day"


def test_a_refusal_goes_to_the_tier_of_its_wait_and_is_not_an_attempt() -> None:
    routes = build_routes(group="g", tickets="t", enriched="e", dlq="d", deletion_requests="dr",
                          deletion_completed="dc", deletion_dlq="", ticket_tiers=[5, 30, 300],
                          deletion_tiers=[5], max_attempts=3, max_wait_seconds=3600)
    retry = RetrySettings(tiers_seconds=[5, 30, 300], max_attempts=3, backoff_base_seconds=1, backoff_max_seconds=60,
                          max_wait_seconds=3600, publish_retry_first_seconds=1, publish_retry_max_seconds=30,
                          limiter=True, limiter_max_wait_seconds=0, sign_provenance=False)
    decision = decide(OverBudget("group_minute", 12.0, "g"), attempt=3, route=routes.tickets, retry=retry,
                      now_ms=1_000)
    assert decision.action == "delay" and decision.attempt == 2  # the third try was never made
    assert decision.topic == routes.tickets.tier_for(12.0).topic and decision.due_ms == 1_000 + 30_000


class Scripted:
    """A model port answering with fixed usage, or failing."""

    name = "scripted"

    def __init__(self, usage: Usage | None) -> None:
        self.usage = usage
        self.calls = 0

    async def respond(self, request: ModelRequest) -> ModelTurn:
        self.calls += 1
        if self.usage is None:
            raise ConnectionError("no answer")
        return ModelTurn(text="ok", usage=self.usage)

    async def close(self) -> None:
        """Nothing held."""


def request(account: str) -> ModelRequest:
    event = TicketEvent(event_id="e1", type="ticket.created", occurred_at=datetime(2026, 12, 1, tzinfo=UTC),
                        account_id=account, ticket=Ticket(id="t1", subject="s", body="the export failed",
                                                          priority="normal", channel="email"))
    return ModelRequest(instructions="judge", ticket=event, tools=[ToolSpec(name="x", description="y",
                                                                              parameters={"type": "object"})])


async def test_the_model_reserves_its_estimate_and_settles_what_the_server_reported() -> None:
    clock = Clock()
    ledger = LocalLedger()
    shared = budget(ledger, clock, minute_tokens=10_000)
    model = LimitedModel(Scripted(Usage(calls=1, input_tokens=120, output_tokens=30)), Breaker("model"),
                         budget=shared, max_output_tokens=64)
    await model.respond(request("a"))
    rows = await ledger.rows("")
    assert rows["group:g"].tokens == 150 and rows["account:g:a"].tokens == 150
    assert rows["group:g"].level == pytest.approx(10_000 - 150)
    failing = LimitedModel(Scripted(None), Breaker("model"), budget=shared, max_output_tokens=64)
    with pytest.raises(ConnectionError):
        await failing.respond(request("b"))
    rows = await ledger.rows("")
    assert rows["account:g:b"].tokens == 0 and rows["group:g"].tokens == 150  # no answer: given back


async def test_a_call_the_budget_refuses_is_never_made() -> None:
    clock = Clock()
    inner = Scripted(Usage(calls=1, input_tokens=10, output_tokens=10))
    model = LimitedModel(inner, Breaker("model"), budget=budget(LocalLedger(), clock, account_day_tokens=100),
                         max_output_tokens=64)
    shared = model.budget
    assert shared is not None
    held = await shared.reserve("b", 150)  # more than a day's budget: allowed as the day's first call
    await shared.settle(held, 0)
    await model.respond(request("a"))
    with pytest.raises(OverBudget) as refused:
        await model.respond(request("a"))  # 20 spent: the next estimate does not fit
    assert refused.value.reason == "account_day" and inner.calls == 1


async def test_passing_the_warning_share_of_a_day_is_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    member = budget(LocalLedger(), clock, account_day_tokens=1_000, day_tokens=10_000, warn_fraction=0.5)
    for _ in range(4):
        await member.reserve("a", 200)
    warnings = [r.getMessage() for r in caplog.records if r.name == "ticket_enricher.budget"]
    assert warnings == ["budget: account day of a passed 50% of its day's budget"]


async def test_the_estimate_learns_a_server_that_counts_more_tokens_from_its_first_call() -> None:
    class Counting(Scripted):
        """Reports four tokens per character of the request (a script the three-characters rule underrates)."""

        def __init__(self) -> None:
            super().__init__(Usage())
            self.in_flight = self.most_in_flight = 0
            self.log: list[str] = []

        async def respond(self, request: ModelRequest) -> ModelTurn:
            self.log.append(f"start {request.ticket.account_id}")
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
            await asyncio.sleep(0.01)
            self.log.append(f"end {request.ticket.account_id}")
            self.in_flight -= 1
            self.calls += 1
            chars = len(request.instructions) + len(request.ticket.model_dump_json()) + sum(
                len(t.model_dump_json()) for t in request.tools)
            return ModelTurn(text="ok", usage=Usage(calls=1, input_tokens=4 * chars, output_tokens=1))

    inner = Counting()
    model = LimitedModel(inner, Breaker("model"), budget=budget(LocalLedger(), Clock(), minute_tokens=10**9),
                         max_output_tokens=8)
    first = [asyncio.create_task(model.respond(request(f"a{i}"))) for i in range(3)]
    await asyncio.gather(*first)
    assert model.estimator.scale == pytest.approx(12.0, rel=0.01)  # 4 tokens a character against 1/3
    assert inner.log[:2] == ["start a0", "end a0"]  # one call alone until the server's count was known
    await asyncio.gather(*(model.respond(request(f"b{i}")) for i in range(5)))
    assert inner.most_in_flight > 1  # then calls run at once again


async def test_status_shows_the_day_the_minute_and_the_top_accounts() -> None:
    from rich.console import Console

    from ticket_enricher.cli.status import show_budget
    from ticket_enricher.core.budget import standing

    clock = Clock()
    ledger = LocalLedger()
    limits = Limits(minute_tokens=6_000, day_tokens=100_000, account_day_tokens=1_000)
    member = Budget(ledger, "g", limits, clock=clock)
    for account, tokens in [("big", 900), ("small", 100), ("big", 100)]:
        held = await member.reserve(account, tokens)
        await member.settle(held, tokens)
    with pytest.raises(OverBudget):
        await member.reserve("big", 500)  # over its day: parked till midnight
    now = await standing(ledger, "g", limits, clock.now)
    assert now.day_tokens == 1_100 and now.minute_left == pytest.approx(6_000 - 1_100)
    assert [a for a, *_ in now.accounts] == ["big", "small"] and now.accounts[0][3] > clock.now
    console = Console(record=True, width=100)
    show_budget(console, now)
    text = console.export_text()
    assert "today 1,100 of 100,000 tokens" in text and "4,900 of 6,000 tokens left" in text
    assert "big" in text and "1,000" in text


async def test_fresh_events_of_a_parked_account_come_due_one_after_another() -> None:
    clock = Clock()
    tiers = lambda wait: max(5.0, wait) if wait <= 5 else max(30.0, wait)  # noqa: E731 - tiers of 5 s and 30 s
    member = budget(LocalLedger(), clock, tiers, minute_tokens=600)
    await member.reserve("a", 600)
    dues = []
    for step in (0.0, 1.0, 24.5):  # event 1 waits 6 s (the 30 s tier); 2 and 3 arrive behind it
        clock.now += step
        with pytest.raises(OverBudget) as refused:
            await member.reserve("a", 60)
        dues.append(clock.now + tiers(refused.value.retry_after or 0.0))
    assert dues == sorted(dues) and len(set(dues)) == 3, dues
