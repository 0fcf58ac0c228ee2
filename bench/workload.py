"""The events every throughput row runs on: interleaved accounts, Zipf or uniform keys, and percentiles."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import TypedDict

from ticket_enricher.core.events import Ticket, TicketEvent

LATENCY = 0.2
TURNS = 2
PARTITIONS = 3
MODEL_ACCOUNTS = 200
INTENDED = "bench-intended"  # header: the instant (epoch seconds) the publisher meant to send the event
MODEL_CONFIGS = ["stock", "stock-mw64", "stock-mw64-ackfirst", "ours-16", "ours-64", "ours-256", "ours-256x2"]
SKEW_CONFIGS = ["uniform-64", "zipf-64"]
OFFLINE_CONFIGS = ["offline", "offline-postgres", "offline-zipf", "passthrough"]
class Skew(TypedDict):
    events: int
    rate: float
    accounts: int
    s: float


SKEW: Skew = {"events": 500, "rate": 25.0, "accounts": 1000, "s": 1.1}
ZIPF_ACCOUNTS = 1000


def ticket_event(account: int, seq: int, start: datetime) -> TicketEvent:
    return TicketEvent(event_id=f"ev-{account}-{seq}", type="ticket.created",
                       occurred_at=start + timedelta(minutes=seq), account_id=f"acct-{account}",
                       ticket=Ticket(id=f"t-{account}-{seq}", subject="Dashboard down again", priority="high",
                                     body="The outage is back and our team cannot work.", channel="email"))


def events(accounts: int, per_account: int) -> list[TicketEvent]:
    """Uniform and interleaved: every account's first event, then every account's second, ..."""
    start = datetime(2026, 11, 1, tzinfo=UTC)
    return [ticket_event(a, i, start) for i in range(per_account) for a in range(accounts)]


def zipf_accounts(n: int, accounts: int, s: float, seed: int = 7) -> list[int]:
    """`n` account indexes drawn with P(rank k) ~ 1 / k^s; index 0 is the top account."""
    weights = [1 / (k ** s) for k in range(1, accounts + 1)]
    return random.Random(seed).choices(range(accounts), weights=weights, k=n)


def keyed_events(order: list[int]) -> list[TicketEvent]:
    """Events for the given sequence of accounts, each account's own events numbered in order."""
    start = datetime(2026, 11, 1, tzinfo=UTC)
    seen: dict[int, int] = {}
    out = []
    for account in order:
        seq = seen[account] = seen.get(account, -1) + 1
        out.append(ticket_event(account, seq, start))
    return out


def uniform_accounts(n: int, accounts: int, seed: int = 7) -> list[int]:
    return random.Random(seed).choices(range(accounts), k=n)


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in [0, 100]); NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]
