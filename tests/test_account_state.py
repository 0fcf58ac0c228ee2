"""The cached account state a judgment reads: bounded by the agent's search size and the longest window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ticket_enricher.agents.planners.state import AccountState
from ticket_enricher.agents.rules.judgment import Note

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def note(i: int, day: float, signals: frozenset[str] = frozenset()) -> Note:
    return Note(memory_id=f"m{i}", event_id=f"e{i}", ticket_id=f"t{i}", event_type="ticket.created",
                occurred_at=T0 + timedelta(days=day), priority="normal", signals=signals, quotes=())


def test_a_judgment_reads_the_newest_notes_up_to_its_event_in_time_order() -> None:
    state = AccountState("acct")
    for i, day in enumerate([5, 1, 3, 9, 7]):  # arriving out of time order
        state.remember(note(i, day))
    assert [n.event_id for n in state.judged(T0 + timedelta(days=7), horizon_days=90, limit=10)] == [
        "e1", "e2", "e0", "e4"]  # days 1, 3, 5, 7; the note of day 9 is later than the event
    assert [n.event_id for n in state.judged(T0 + timedelta(days=7), horizon_days=90, limit=2)] == ["e0", "e4"]


def test_notes_older_than_the_horizon_leave_the_window_but_not_the_index() -> None:
    state = AccountState("acct")
    for i in range(10):
        state.remember(note(i, day=i * 10))  # days 0, 10, ..., 90
    window = state.judged(T0 + timedelta(days=90), horizon_days=30, limit=50)
    assert [n.event_id for n in window] == ["e6", "e7", "e8", "e9"]
    assert len(state.recent) == 4, "dropped for good: no later judgment can reach back further"
    assert len(state.memory_ids) == 10 and state.memory_ids["e0"] == "m0", "a redelivery still finds its note"


def test_a_re_read_note_replaces_its_old_version() -> None:
    state = AccountState("acct")
    state.remember(note(1, 1))
    state.remember(note(1, 1, frozenset({"outage"})))
    [only] = state.judged(T0 + timedelta(days=2), horizon_days=90, limit=50)
    assert only.signals == {"outage"} and len(state.recent) == 1


def test_a_hot_account_costs_a_judgment_no_more_than_a_quiet_one() -> None:
    state = AccountState("hot")
    for i in range(5000):
        state.remember(note(i, day=i / 1000))
    window = state.judged(T0 + timedelta(days=5), horizon_days=90, limit=50)
    assert len(window) == 50 and window[-1].event_id == "e4999" and window[0].event_id == "e4950"
    assert len(state.recent) == 50, "notes no later judgment can read are not kept"


def test_planned_ids_are_the_uuid5_of_the_entity_ids_and_key() -> None:
    """Every member, of every version, must plan the same id for one memory: pinned to uuid.uuid5."""
    import uuid

    from ticket_enricher.memory.batch import _NAMESPACE, planned_id
    from ticket_enricher.memory.store import EntityScope

    for scope, key in [(EntityScope(user_id="acct-1"), "ev-1"), (EntityScope(agent_id="ledger"), "subject:x:y"),
                       (EntityScope(user_id="Zoë", run_id="r-1"), "ключ")]:
        name = "\0".join(f"{f}={getattr(scope, f) or ''}" for f in ("user_id", "agent_id", "app_id", "run_id"))
        assert planned_id(scope, key) == str(uuid.uuid5(_NAMESPACE, f"{name}\0{key}"))


def test_a_note_arriving_after_later_ones_were_judged_is_read_only_where_the_newest_would_show_it() -> None:
    state = AccountState("acct")
    for i in range(10):
        state.remember(note(i, day=i))
    assert [n.event_id for n in state.judged(T0 + timedelta(days=9), 90, limit=3)] == ["e7", "e8", "e9"]
    state.remember(note(10, day=8.5))  # an older event delivered late
    state.remember(note(11, day=2))  # older than every note kept: no later window can reach it
    assert [n.event_id for n in state.judged(T0 + timedelta(days=9), 90, limit=3)] == ["e8", "e10", "e9"]
    state.remember(note(12, day=10))
    assert [n.event_id for n in state.judged(T0 + timedelta(days=10), 90, limit=4)] == ["e8", "e10", "e9", "e12"]
