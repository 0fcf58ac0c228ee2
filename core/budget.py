"""The model budget shared by every member of a group: reserve before a call from an estimate, settle after it
with what the server reported.

Three limits, each off at 0 (`budget.*` settings):

    group minute   a token bucket per budget name: it holds one minute's tokens and refills at that rate, so one
                   minute's budget may be spent at once and over any longer stretch t no more than
                   minute + rate × t
    group day      tokens (and US dollars, with a price) per UTC day for the whole group
    account day    tokens (and dollars) per UTC day per account: one noisy account waits, the others go on

A replay draws from the group's bucket and from a bucket of its own (`budget.replay_share` of the rate, or
`replay --budget`), so that a backfill never takes the whole rate from the live stream unless told to.

The state lives in a `BudgetLedger` (the store the members already share: the embedded SQLite file on one host,
PostgreSQL across hosts; `memory.budget_ledger`) as rows that one transaction reads, decides on (`decide`, pure)
and writes back, so two members never both spend the last tokens.

Over budget is not a failure: `reserve` raises `OverBudget` (a `RateLimited` our side refused, not an attempt) with
the wait until the budget allows the call; the policy puts the event in the delay tier due then. An account with
an event waiting is *parked* until that event is due: its later fresh events wait behind it (its order is kept),
while the retried ones (`retrying()`) come due in their tier's order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Protocol, TypeVar

from ticket_enricher.core.errors import OverBudget

log = logging.getLogger("ticket_enricher.budget")
T = TypeVar("T")

_RETRYING: ContextVar[bool] = ContextVar("budget_retrying", default=False)


@contextlib.contextmanager
def retrying() -> Iterator[None]:
    """Mark the model calls made inside as those of an event coming back from a delay tier: it is the one its
    account is parked for, so the parking does not hold it (the delay consumers wrap their handler in this)."""
    token = _RETRYING.set(True)
    try:
        yield
    finally:
        _RETRYING.reset(token)


@dataclass
class Row:
    """One ledger row: a bucket (`level` tokens at `stamp`), a day's spend, and an account's parking."""

    level: float = 0.0
    stamp: float = 0.0
    day: str = ""
    tokens: float = 0.0
    usd: float = 0.0
    parked_until: float = 0.0


class BudgetObserver(Protocol):
    """Told of what the budget decides (the worker's metrics)."""

    def refused(self, reason: str) -> None: ...

    def spent(self, tokens: float, usd: float) -> None: ...

    def left(self, left: dict[str, float]) -> None: ...


class BudgetLedger(Protocol):
    """Rows by key, changed in one transaction that no other member interleaves with."""

    async def transact(self, keys: list[str], change: Callable[[dict[str, Row]], T]) -> T:
        """Lock the rows of `keys` (missing ones start as `Row()`), call `change` on them (it mutates them in
        place and returns its result), write them back and commit."""
        ...

    async def rows(self, prefix: str) -> dict[str, Row]:
        """Every row whose key starts with `prefix`, as stored (for `status`)."""
        ...

    async def prune(self, now: float) -> int:
        """Delete account rows of earlier days that park nothing; returns how many."""
        ...

    async def close(self) -> None: ...


@dataclass(frozen=True)
class Limits:
    minute_tokens: float = 0.0  # the group's bucket: capacity, refilled at this many per 60 s
    day_tokens: float = 0.0
    day_usd: float = 0.0
    account_day_tokens: float = 0.0
    account_day_usd: float = 0.0
    replay_minute_tokens: float = 0.0  # a replay's own bucket (0: a live member, no such bucket)
    warn_fraction: float = 0.8

    @property
    def any(self) -> bool:
        return any((self.minute_tokens, self.day_tokens, self.day_usd, self.account_day_tokens,
                    self.account_day_usd, self.replay_minute_tokens))


@dataclass(frozen=True)
class Reservation:
    account: str
    tokens: float
    usd: float
    replay: bool


@dataclass
class Decision:
    reservation: Reservation | None
    wait: float = 0.0
    reason: str = ""
    crossed: list[str] = field(default_factory=list)  # warnings to log: scopes past `warn_fraction` of a day
    left: dict[str, float] = field(default_factory=dict)  # what the group's limits had left after this decision


def utc_day(now: float) -> str:
    return datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%d")


def until_midnight(now: float) -> float:
    moment = datetime.fromtimestamp(now, UTC)
    midnight = (moment + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return max(1.0, midnight.timestamp() - now)


def refill(row: Row, capacity: float, now: float) -> None:
    """Bring a bucket up to `now`: a new one starts full; it never holds more than `capacity`."""
    if row.stamp <= 0:
        row.level = capacity
    else:
        row.level = min(capacity, row.level + max(0.0, now - row.stamp) * capacity / 60.0)
    row.stamp = now


def roll(row: Row, now: float) -> None:
    day = utc_day(now)
    if row.day != day:
        row.day, row.tokens, row.usd = day, 0.0, 0.0


def decide(rows: dict[str, Row], keys: Keys, limits: Limits, *, account: str, tokens: float, usd: float,
           now: float, retrying: bool, due_after: Callable[[float], float]) -> Decision:
    """Reserve `tokens` (and `usd`) for one call of `account`, or say how long until the budget allows it."""
    group, acct = rows[keys.group], rows[keys.account(account)]
    replay = rows.get(keys.replay) if limits.replay_minute_tokens else None
    for each in (group, acct, replay):
        if each is not None:
            roll(each, now)
    waits: list[tuple[float, str]] = []
    if not retrying and acct.parked_until > now:
        waits.append((acct.parked_until - now + 0.001, "account_order"))
    # (a call larger than a whole day's budget may be the day's only one, or it would wait forever)
    for spent, cost, limit, scope in ((acct.tokens, tokens, limits.account_day_tokens, "account_day"),
                                      (acct.usd, usd, limits.account_day_usd, "account_day"),
                                      (group.tokens, tokens, limits.day_tokens, "group_day"),
                                      (group.usd, usd, limits.day_usd, "group_day")):
        if limit and spent + min(cost, limit) > limit:
            waits.append((until_midnight(now), scope))
    for row, capacity, scope in ((group, limits.minute_tokens, "group_minute"),
                                 (replay, limits.replay_minute_tokens, "replay_minute")):
        if row is None or not capacity:
            continue
        refill(row, capacity, now)
        need = min(tokens, capacity)  # a call larger than a minute's budget waits for a full bucket
        if row.level < need:
            waits.append(((need - row.level) * 60.0 / capacity, scope))
    if waits:
        wait, reason = max(waits)
        acct.parked_until = max(acct.parked_until, now + due_after(wait))
        return Decision(None, wait, reason, left=_left(group, limits))
    before = {"group_day": (group.tokens, limits.day_tokens), "account_day": (acct.tokens, limits.account_day_tokens)}
    for row in (group, acct, replay):
        if row is not None:
            row.tokens += tokens
            row.usd += usd
    for row, capacity in ((group, limits.minute_tokens), (replay, limits.replay_minute_tokens)):
        if row is not None and capacity:
            row.level -= tokens
    crossed = [scope for scope, (spent, limit) in before.items()
               if limit and spent < limits.warn_fraction * limit <= spent + tokens]
    return Decision(Reservation(account, tokens, usd, replay is not None), crossed=crossed, left=_left(group, limits))


def _left(group: Row, limits: Limits) -> dict[str, float]:
    left: dict[str, float] = {}
    if limits.minute_tokens:
        left["group_minute"] = group.level
    if limits.day_tokens:
        left["group_day"] = limits.day_tokens - group.tokens
    return left


def settle(rows: dict[str, Row], keys: Keys, limits: Limits, reservation: Reservation, tokens: float,
           usd: float) -> None:
    """Replace a reservation by what the call cost: a refund when it cost less (or failed unanswered), a debt
    (a bucket below zero, later calls wait) when it cost more."""
    extra_tokens, extra_usd = tokens - reservation.tokens, usd - reservation.usd
    scoped = [(rows[keys.group], limits.minute_tokens), (rows[keys.account(reservation.account)], 0.0)]
    if reservation.replay:
        scoped.append((rows[keys.replay], limits.replay_minute_tokens))
    for row, capacity in scoped:
        row.tokens = max(0.0, row.tokens + extra_tokens)
        row.usd = max(0.0, row.usd + extra_usd)
        if capacity:
            row.level = min(capacity, row.level - extra_tokens)


@dataclass(frozen=True)
class Keys:
    name: str

    @property
    def group(self) -> str:
        return f"group:{self.name}"

    @property
    def replay(self) -> str:
        return f"replay:{self.name}"

    def account(self, account: str) -> str:
        return f"account:{self.name}:{account}"

    def of_call(self, account: str, replay: bool) -> list[str]:
        """The rows one call reserves from and settles with."""
        return [self.group, self.account(account)] + ([self.replay] if replay else [])


class Budget:
    """One member's handle on the shared budget (`LimitedModel` reserves and settles every paid call)."""

    def __init__(self, ledger: BudgetLedger, name: str, limits: Limits, *,
                 due_after: Callable[[float], float] = lambda wait: wait,
                 clock: Callable[[], float] | None = None,
                 observe: BudgetObserver | None = None) -> None:
        """`due_after(wait)`: when an event refused for `wait` seconds will come back (the delay tier the policy
        picks), so that its account stays parked until then; `observe`: told of spend, refusals and what is left
        (the metrics)."""
        self.ledger = ledger
        self.keys = Keys(name)
        self.limits = limits
        self.due_after = due_after
        self.clock = clock or time.time
        self.observe = observe
        self._warned: set[tuple[str, str]] = set()
        # accounts this member saw parked, until when: their fresh events are refused without a ledger round trip
        # (the ledger says the same until then); an account over its day files hundreds of them
        self._parked: dict[str, float] = {}
        self._pruned_at = 0.0

    async def reserve(self, account: str, tokens: float, usd: float = 0.0) -> Reservation:
        keys = self.keys.of_call(account, bool(self.limits.replay_minute_tokens))
        now = self.clock()
        retry = _RETRYING.get()
        if now - self._pruned_at > 3600:  # accounts' rows of past days go, once an hour per member
            self._pruned_at = now
            try:
                await self.ledger.prune(now)
            except Exception as error:  # noqa: BLE001 - only old counts stay a little longer
                log.warning("budget: could not prune the ledger: %s", error)
        parked = self._parked.get(account, 0.0)
        if not retry and parked > now:
            self._refused("account_order")
            wait = parked - now + 0.001
            self._parked[account] = max(parked, now + self.due_after(wait))  # the next one comes due after it
            raise OverBudget("account_order", wait, account)
        decision = await self.ledger.transact(keys, lambda rows: decide(
            rows, self.keys, self.limits, account=account, tokens=tokens, usd=usd, now=now, retrying=retry,
            due_after=self.due_after))
        for scope in decision.crossed:
            self._warn(scope, account, now)
        if self.observe is not None:
            self.observe.left(decision.left)
        if decision.reservation is None:
            self._refused(decision.reason)
            self._parked[account] = max(parked, now + self.due_after(decision.wait))
            if len(self._parked) > 10_000:  # forget the expired ones now and then
                self._parked = {a: t for a, t in self._parked.items() if t > now}
            raise OverBudget(decision.reason, decision.wait, account if decision.reason.startswith("account")
                             else self.keys.name)
        return decision.reservation

    def _refused(self, reason: str) -> None:
        if self.observe is not None:
            self.observe.refused(reason)

    async def settle(self, reservation: Reservation, tokens: float, usd: float = 0.0) -> None:
        await self.ledger.transact(
            self.keys.of_call(reservation.account, reservation.replay),
            lambda rows: settle(rows, self.keys, self.limits, reservation, tokens, usd))
        if self.observe is not None:
            self.observe.spent(tokens, usd)

    def _warn(self, scope: str, account: str, now: float) -> None:
        subject = self.keys.name if scope == "group_day" else account
        key = (f"{scope}:{subject}", utc_day(now))
        if key in self._warned:
            return
        self._warned.add(key)
        log.warning("budget: %s of %s passed %.0f%% of its day's budget", scope.replace("_", " "), subject,
                    self.limits.warn_fraction * 100)


class Estimator:
    """A call's tokens before it is made: its prompt at three characters a token (tokenizers average about four
    on English prose), scaled up by the largest ratio of reported to estimated prompt tokens among the last
    calls (JSON, code and most other scripts take more tokens a character), plus the most the answer may take.
    Until this member has seen one call's usage, one estimated call at a time (`first`): a server that counts
    far more tokens than three characters each is learnt from one call, not from a burst of them."""

    WINDOW = 50

    def __init__(self, max_output_tokens: int) -> None:
        self.max_output_tokens = max_output_tokens
        self.ratios: list[float] = []
        self.first = asyncio.Lock()

    @property
    def scale(self) -> float:
        return max([1.0, *self.ratios])

    def prompt(self, chars: int) -> int:
        return math.ceil(chars / 3 * self.scale)

    def tokens(self, chars: int) -> int:
        return self.prompt(chars) + self.max_output_tokens

    def learn(self, chars: int, prompt_tokens: int) -> None:
        if chars > 0 and prompt_tokens > 0:
            self.ratios = [*self.ratios[-(self.WINDOW - 1):], prompt_tokens / (chars / 3)]


@dataclass(frozen=True)
class Standing:
    """What a budget has spent and has left, as `status` shows it."""

    name: str
    limits: Limits
    minute_left: float | None  # the group's bucket now (None: no minute limit)
    day_tokens: float
    day_usd: float
    replay_left: float | None
    accounts: list[tuple[str, float, float, float]]  # top accounts today: (account, tokens, usd, parked until)

    def as_json(self) -> dict[str, object]:
        lim = self.limits
        return {"name": self.name, "group_tokens_per_minute": lim.minute_tokens,
                "minute_tokens_left": self.minute_left,
                "group_tokens_per_day": lim.day_tokens, "day_tokens_spent": self.day_tokens,
                "group_usd_per_day": lim.day_usd, "day_usd_spent": round(self.day_usd, 6),
                "replay_tokens_left": self.replay_left, "account_tokens_per_day": lim.account_day_tokens,
                "account_usd_per_day": lim.account_day_usd,
                "top_accounts": [{"account": a, "tokens": t, "usd": round(u, 6), "parked_until": p or None}
                                 for a, t, u, p in self.accounts]}


async def standing(ledger: BudgetLedger, name: str, limits: Limits, now: float, top: int = 5) -> Standing:
    """The budget's rows brought up to `now` (buckets refilled, past days at zero), without changing them."""
    keys = Keys(name)
    rows = await ledger.rows(f"group:{name}") | await ledger.rows(f"replay:{name}")
    group = replace(rows.get(keys.group) or Row())
    roll(group, now)
    minute = None
    if limits.minute_tokens:
        refill(group, limits.minute_tokens, now)
        minute = group.level
    replay_left = None
    if keys.replay in rows and limits.minute_tokens:
        bucket = replace(rows[keys.replay])
        capacity = limits.replay_minute_tokens or limits.minute_tokens
        refill(bucket, capacity, now)
        replay_left = bucket.level
    prefix = keys.account("")
    today = utc_day(now)
    accounts = sorted(((k[len(prefix):], r.tokens, r.usd, r.parked_until if r.parked_until > now else 0.0)
                       for k, r in (await ledger.rows(prefix)).items() if r.day == today),
                      key=lambda a: (-a[1], a[0]))
    return Standing(name, limits, minute, group.tokens, group.usd, replay_left, accounts[:top])
