"""The rules model's quick "this tag stays as it is" (`RulesModel.keeps`, and `to_judge`, all tags in one pass)
against its full judgment: over random histories, whenever it says a tag stays, judging the tag would not have
changed it, and whole runs with and without it decide the same tags with the same reasons and evidence."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import get_args

from ticket_enricher.agents.planners.rules import apply
from ticket_enricher.agents.planners.state import AccountState
from ticket_enricher.agents.planners.writes import Writes
from ticket_enricher.agents.rules import signals
from ticket_enricher.agents.rules.judgment import Note
from ticket_enricher.agents.rules.model import RulesModel
from ticket_enricher.config.settings import TagSettings, load_settings
from ticket_enricher.core.events import EventType, Priority, Ticket, TicketEvent

CONFIG = load_settings()
SIGNALS = list(get_args(signals.Signal))
T0 = datetime(2026, 1, 1, tzinfo=UTC)


TAGS = {**CONFIG.tags, "repeated_failure": TagSettings(  # a tag that needs three events within 20 days
    description="Three failures of service within twenty days.", rule="signals", min_events=3, within_days=20,
    signals=["outage", "delivery_failure", "data_loss", "lockout"])}


def rules() -> RulesModel:
    return RulesModel(TAGS, window_days=CONFIG.agent.history_window_days, search_top_k=CONFIG.agent.search_top_k)


class JudgesEverything(RulesModel):
    """The same rules with the quick check switched off."""

    def to_judge(self, notes: list[Note], now: datetime, tagged: set[str]) -> list[str]:
        return list(self.tags)


def history(rng: random.Random, n: int) -> list[Note]:
    """Notes a few hours to a few weeks apart, each with zero to three signals, some closes and urgent ones."""
    at, notes = T0, []
    for i in range(n):
        at += timedelta(hours=rng.choice([1, 5, 24, 24 * 7, 24 * 20, 24 * 40]))
        chosen = frozenset(rng.sample(SIGNALS, rng.choice([0, 0, 1, 1, 2, 3])))
        notes.append(Note(memory_id=f"m{i}", event_id=f"e{i}", ticket_id=f"t{i}",
                          event_type=rng.choice(["ticket.created", "ticket.updated", "ticket.closed"]),
                          occurred_at=at, priority=rng.choice(["low", "normal", "high", "urgent"]),
                          signals=chosen, quotes=tuple((s, f"words for {s}") for s in sorted(chosen))))
    return notes


def test_whenever_a_tag_is_kept_judging_it_would_not_have_changed_it() -> None:
    model, rng = rules(), random.Random(13)
    kept = judged = 0
    for _ in range(300):
        state, tagged = AccountState("acct"), set[str]()
        for note in history(rng, rng.randint(1, 60)):
            state.remember(note)
            window = state.judged(note.occurred_at, 120, model.search_top_k)
            assert model.to_judge(window, note.occurred_at, tagged) == [
                n for n, r in model.tags.items() if not model.keeps(n, r, window, note.occurred_at, n in tagged)]
            for name, rule in model.tags.items():
                decision = model.judge(name, rule, window, note.occurred_at, name in tagged)
                changes = (decision.applies and name not in tagged) or (decision.clear and name in tagged)
                if model.keeps(name, rule, window, note.occurred_at, name in tagged):
                    kept += 1
                    assert not changes, (name, name in tagged, decision, [sorted(n.signals) for n in window])
                else:
                    judged += 1
                if decision.applies:
                    tagged.add(name)
                elif decision.clear:
                    tagged.discard(name)
    assert kept > 1000 and judged > 1000, (kept, judged)  # both ways taken many times


def event(account: str, i: int, at: datetime, text: str, priority: Priority, kind: EventType) -> TicketEvent:
    return TicketEvent(event_id=f"{account}-{i}", type=kind, occurred_at=at, account_id=account,
                       ticket=Ticket(id=f"T-{account}-{i}", subject=text[:40], body=text, priority=priority,
                                     channel="email"))


TEXTS = [
    "Thanks, that fixed it!", "The dashboard is down again, third time this week.",
    "You charged me twice and I want a refund.", "I'm cancelling my subscription, switching to a competitor.",
    "Still waiting for an answer after 5 calls. This is ridiculous!!", "How do I export a report?",
    "Someone logged into my account from another country.", "My parcel never arrived, absolutely furious.",
    "Great service, all sorted now, thank you", "Outage again. We cannot work.",
]


def test_runs_with_and_without_the_quick_check_decide_the_same() -> None:
    rng, fingerprint = random.Random(5), "fp"
    quick, full = rules(), JudgesEverything(TAGS, window_days=CONFIG.agent.history_window_days,
                                            search_top_k=CONFIG.agent.search_top_k)
    changed = {"added": 0, "removed": 0}
    for account in range(60):
        states = {m: AccountState(f"a{account}") for m in ("quick", "full")}
        at = T0
        for i in range(rng.randint(5, 40)):
            at += timedelta(hours=rng.choice([2, 24, 24 * 9, 24 * 35]))
            e = event(f"a{account}", i, at, rng.choice(TEXTS), rng.choice(["normal", "high"]),
                      rng.choice(["ticket.created", "ticket.updated", "ticket.closed"]))
            a = apply(quick, fingerprint, states["quick"], e, Writes())
            b = apply(full, fingerprint, states["full"], e, Writes())
            assert (a.tags, a.tags_added, a.tags_removed, a.evidence) == (b.tags, b.tags_added, b.tags_removed,
                                                                         b.evidence)
            changed["added"] += len(a.tags_added)
            changed["removed"] += len(a.tags_removed)
        assert states["quick"].tags == states["full"].tags
    assert changed["added"] > 50 and changed["removed"] > 20, changed  # tags came and went
