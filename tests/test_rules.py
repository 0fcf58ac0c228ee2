"""The rules model's churn judgment: who is at risk, when a tag clears, and that later notes never count."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ticket_enricher.agents.rules.judgment import Note, assess_churn

NOW = datetime(2026, 6, 1, tzinfo=UTC)


def note(days_ago: float, signals: set[str], *, priority: str = "normal", event_type: str = "ticket.created",
         i: int = 0) -> Note:
    quotes = tuple((s, f"phrase for {s}") for s in sorted(signals))
    return Note(memory_id=f"m-{days_ago}-{i}", event_id=f"e-{days_ago}-{i}", ticket_id=f"T-{i}",
                event_type=event_type, occurred_at=NOW - timedelta(days=days_ago), priority=priority,
                signals=frozenset(signals), quotes=quotes)


def test_one_explicit_leave_statement_is_churn_risk() -> None:
    d = assess_churn([note(2, {"escalation_switch"})], NOW, 90, tagged=False)
    assert d.applies
    assert "escalation_switch" in d.reason and "phrase for escalation_switch" in d.reason
    assert d.evidence == ["m-2-0"]


def test_a_single_bad_day_is_not_churn_risk() -> None:
    d = assess_churn([note(10, {"outage"}, priority="urgent"), note(9, {"satisfied"}, event_type="ticket.closed")],
                     NOW, 90, tagged=False)
    assert not d.applies and not d.clear


def test_questions_at_normal_priority_are_not_complaints() -> None:
    notes = [note(i, set(), i=i) for i in range(10)]
    assert not assess_churn(notes, NOW, 90, tagged=False).applies


def test_failures_without_frustration_are_not_churn_risk_and_with_anger_they_are() -> None:
    calm = [note(40, {"outage"}), note(20, {"billing_error"}), note(5, set(), priority="urgent")]
    assert not assess_churn(calm, NOW, 90, tagged=False).applies
    angry = [note(6, {"delivery_failure"}, i=1), note(5, {"anger"}, i=2)]
    d = assess_churn(angry, NOW, 90, tagged=False)
    assert d.applies and "failure" in d.reason and "anger" in d.reason
    assert set(d.evidence) == {"m-6-1", "m-5-2"}


def test_a_one_off_outage_needs_more_than_repeats_but_an_unanswered_one_is_risk() -> None:
    repeated = [note(3, {"outage", "repeat_contact", "frustration"})]
    assert not assess_churn(repeated, NOW, 90, tagged=False).applies
    unanswered = [note(3, {"outage", "unresolved", "frustration"})]
    assert assess_churn(unanswered, NOW, 90, tagged=False).applies


def test_anger_in_two_messages_is_hostility_and_enough() -> None:
    d = assess_churn([note(2, {"anger"}, i=1), note(1, {"anger"}, i=2)], NOW, 90, tagged=False)
    assert d.applies and "hostility" in d.reason
    assert not assess_churn([note(1, {"anger"})], NOW, 90, tagged=False).applies


def test_a_thankful_last_message_resolves_a_scored_risk_but_not_a_leave_statement() -> None:
    risky = [note(3, {"delivery_failure", "anger"}, i=1)]
    thanked = risky + [note(1, {"satisfied"}, i=2)]
    assert assess_churn(risky, NOW, 90, tagged=False).applies
    d = assess_churn(thanked, NOW, 90, tagged=True)
    assert not d.applies and d.clear
    leaving = [note(3, {"escalation_cancel"}, i=1), note(1, {"satisfied"}, i=2)]
    assert assess_churn(leaving, NOW, 90, tagged=True).applies


def test_complaints_outside_the_window_do_not_count() -> None:
    notes = [note(200, {"outage"}), note(150, {"escalation_cancel"}), note(1, set())]
    assert not assess_churn(notes, NOW, 90, tagged=False).applies


def test_notes_after_now_are_ignored_so_replays_judge_the_same() -> None:
    notes = [note(5, {"outage"}), note(-3, {"escalation_cancel"})]
    assert not assess_churn(notes, NOW, 90, tagged=False).applies


def test_tag_clears_after_two_satisfied_closures_and_no_recent_escalation() -> None:
    old = [note(70, {"outage"}), note(60, {"escalation_cancel"})]
    closed = [note(3, {"satisfied"}, event_type="ticket.closed", i=1),
              note(1, {"satisfied"}, event_type="ticket.closed", i=2)]
    d = assess_churn(old + closed, NOW, 90, tagged=True)
    assert d.clear and not d.applies
    assert "T-1" in d.reason and "T-2" in d.reason


def test_tag_stays_while_a_leave_statement_is_recent() -> None:
    notes = [note(20, {"outage"}), note(10, {"escalation_cancel"}),
             note(3, {"satisfied"}, event_type="ticket.closed", i=1),
             note(1, {"satisfied"}, event_type="ticket.closed", i=2)]
    d = assess_churn(notes, NOW, 90, tagged=True)
    assert d.applies and not d.clear


def _rule(signals: list[str], within: int = 30, min_events: int = 1):
    from ticket_enricher.config.settings import TagSettings

    return TagSettings(description="a tag for the tests", rule="signals", signals=signals, within_days=within,
                       min_events=min_events)


def test_a_signals_tag_applies_within_its_window_and_quotes_the_evidence() -> None:
    from ticket_enricher.agents.rules.judgment import assess_signals

    d = assess_signals([note(40, {"billing_error"}), note(3, {"billing_error", "outage"})], NOW,
                       _rule(["billing_error"]), tagged=False)
    assert d.applies and d.evidence == ["m-3-0"]
    assert "1 event(s) with billing_error in 30d" in d.reason and "phrase for billing_error" in d.reason


def test_a_signals_tag_clears_when_its_window_is_quiet() -> None:
    from ticket_enricher.agents.rules.judgment import assess_signals

    quiet = assess_signals([note(40, {"security"})], NOW, _rule(["security"]), tagged=True)
    assert quiet.clear and "no security in 30d" in quiet.reason
    untouched = assess_signals([note(40, {"security"})], NOW, _rule(["security"]), tagged=False)
    assert not untouched.applies and not untouched.clear


def test_min_events_is_honoured() -> None:
    from ticket_enricher.agents.rules.judgment import assess_signals

    d = assess_signals([note(3, {"outage"})], NOW, _rule(["outage"], min_events=2), tagged=False)
    assert not d.applies


def test_unknown_signal_names_in_the_vocabulary_fail_at_start() -> None:
    import pytest

    from ticket_enricher.agents.rules.model import RulesModel

    with pytest.raises(ValueError, match="unknown signals outages"):
        RulesModel({"outage_affected": _rule(["outages"])})


def test_a_one_off_outage_with_anger_needs_repeats_or_no_answer_to_be_churn_risk() -> None:
    """As the label definition says: repeated outages, not one bad evening, with strong frustration."""
    once = [note(3, {"outage", "anger"})]
    assert not assess_churn(once, NOW, 90, tagged=False).applies
    repeated = [note(3, {"outage", "anger", "repeat_contact"})]
    assert assess_churn(repeated, NOW, 90, tagged=False).applies
    lost = [note(3, {"delivery_failure", "anger"})]  # lost goods are serious by themselves
    assert assess_churn(lost, NOW, 90, tagged=False).applies
