"""The rules' confidence in each tag decision: grades, the calibration table and its fallbacks, the logistic model
that ranks decisions within a grade, what the rules planner records, and `ticket-enricher calibrate` end to end."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ticket_enricher.agents.enrichment import Enrichment
from ticket_enricher.agents.factory import build_planner, rules_model
from ticket_enricher.agents.notes import TagRecord, profile_metadata, read_account_tags
from ticket_enricher.agents.planners import Outcome
from ticket_enricher.agents.rules.confidence import (
    Calibration,
    Row,
    event_features,
    features,
    fit,
    fit_weights,
    grade,
    load_calibration,
)
from ticket_enricher.agents.rules.judgment import TagDecision
from ticket_enricher.agents.rules.model import MIN_SEEN
from ticket_enricher.cli.main import app
from ticket_enricher.config.settings import load_settings
from ticket_enricher.core.events import TicketEvent
from ticket_enricher.memory.sqlite import SqliteMemoryStore

START = datetime(2026, 11, 2, 9, tzinfo=UTC)
SIGNALS = frozenset({"billing_error", "escalation_refund"})


def test_a_grade_names_the_evidence_a_decision_rests_on() -> None:
    leave = TagDecision(True, False, "said they would leave", [], "leave")
    assert grade("churn", "set", leave, frozenset(), frozenset({"escalation_cancel"}), False) == "set:leave"
    assert grade("signals", "set", None, SIGNALS, frozenset({"billing_error", "anger"}), False) == "set:billing_error"
    assert grade("signals", "set", None, SIGNALS, frozenset(), False) == "set:window"  # set by earlier notes
    assert grade("signals", "keep", None, SIGNALS, frozenset({"escalation_refund"}), False) == "keep:fresh"
    assert grade("signals", "keep", None, SIGNALS, frozenset(), False) == "keep:old"
    assert grade("signals", "leave", None, SIGNALS, frozenset(), False) == "leave:quiet"
    assert grade("signals", "leave", None, SIGNALS, frozenset({"outage"}), True) == "leave:cue+complaint"
    assert grade("churn", "leave", None, frozenset(), frozenset({"anger", "outage"}), False) == "leave:mood+failure"
    assert grade("churn", "clear", None, frozenset(), frozenset(), False) == "clear"


def test_a_grade_is_as_sure_as_it_was_right_and_falls_back_when_never_seen() -> None:
    billing = {"leave:quiet": (98, 97), "set:billing_error": (8, 6)}
    table = Calibration(source="hand", tables={"billing_dispute": billing, "churn_risk": {"leave:quiet": (10, 10)}})
    assert table.confidence("billing_dispute", "leave:quiet") == pytest.approx(98 / 100, abs=1e-4)
    assert table.confidence("billing_dispute", "set:billing_error") == pytest.approx(7 / 10, abs=1e-4)
    pooled = table.confidence("billing_dispute", "set:escalation_refund")
    assert pooled == pytest.approx(7 / 10, abs=1e-4), "its action pooled"
    # a tag of your own borrows the grade from every tag the table knows, and is not "calibrated"
    assert table.confidence("vip", "leave:quiet") == pytest.approx(108 / 110, abs=1e-4)
    assert table.confidence("vip", "clear") == 0.5 and not table.fitted("vip") and table.fitted("churn_risk")
    again = Calibration.from_json(table.to_json(), "round trip")
    assert again.tables == table.tables and again.source == "hand"


def test_a_broken_table_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"tags": {"churn_risk": {"leave:quiet": [3, 5]}}}')
    with pytest.raises(ValueError, match="more right decisions than decisions"):
        load_calibration(str(bad))
    bad.write_text("[]")
    with pytest.raises(ValueError, match="not a calibration table"):
        load_calibration(str(bad))


def test_the_logistic_model_learns_which_features_go_with_the_label() -> None:
    data = [(["w:card", "n:card"], True)] * 30 + [(["w:card"], False)] * 60 + [(["w:fee"], False)] * 60
    w = fit_weights(data, l2=1.0, rounds=300)
    table = Calibration(source="hand", tables={"outage_affected": {}}, weights={"outage_affected": w})
    broken, fine = table.probability("outage_affected", ["w:card", "n:card"]), table.probability("outage_affected",
                                                                                                  ["w:card"])
    assert broken is not None and fine is not None and broken > 0.8 > 0.2 > fine
    assert table.probability("churn_risk", ["w:card"]) is None, "no model for a tag without one"
    rows = [Row("outage_affected", "leave:cue", f, False, y) for f, y in data]
    fitted = fit(rows, "hand", rounds=100)
    assert fitted.tables["outage_affected"]["leave:cue"] == (150, 120)


def test_features_read_the_lexicons_words_only() -> None:
    f = features("My card isn't working, zorblax!", frozenset({"lockout"}), True)
    assert "w:card" in f and "n:card" in f and "s:lockout" in f and "rules:set" in f
    assert not any("zorblax" in x for x in f), "a word no lexicon has is never a feature"
    assert "asks" in features("is my card working?", frozenset(), False)


def test_the_shipped_table_knows_the_three_labelled_tags() -> None:
    table = load_calibration()
    assert {"churn_risk", "billing_dispute", "outage_affected"} <= set(table.tables) and "Banking77" in table.source
    assert set(table.weights) == {"churn_risk", "billing_dispute", "outage_affected"}


def event(n: int, body: str, account: str = "acct") -> TicketEvent:
    return TicketEvent.model_validate({
        "event_id": f"{account}-{n}", "type": "ticket.created", "occurred_at": START + timedelta(hours=n),
        "account_id": account, "ticket": {"id": f"T-{n}", "subject": body[:60], "body": body,
                                          "priority": "normal", "channel": "chat"}})


async def judge(store: SqliteMemoryStore, *items: TicketEvent) -> list[Outcome]:
    planner = build_planner(load_settings(), store)
    out = []
    for item in items:
        (result,) = await Enrichment(planner, store).enrich([item])
        assert not isinstance(result, Exception) and result.outcome is not None, result
        out.append(result.outcome)
    return out


async def test_every_decision_carries_a_confidence_and_a_set_tag_records_it(tmp_path: Path) -> None:
    store = SqliteMemoryStore(tmp_path / "m.db")
    try:
        quiet, disputed = await judge(store, event(0, "Where can I see my statements?"),
                                      event(1, "There is a payment on my card I don't recognise"))
        assert set(quiet.judgments) == set(load_settings().tags)
        assert quiet.judgments["billing_dispute"].action == "leave"
        assert quiet.judgments["billing_dispute"].confidence > 0.9
        j = disputed.judgments["billing_dispute"]
        assert j.action == "set" and j.grade == "set:billing_error" and 0 < j.confidence < 1
        _, tags = await read_account_tags(store, "acct")
        record = tags.tags["billing_dispute"]
        assert record.stage == "rules" and record.confidence == j.confidence
    finally:
        await store.close()


async def test_the_rules_never_clear_a_models_tag_and_hand_it_back_when_they_would(tmp_path: Path) -> None:
    store = SqliteMemoryStore(tmp_path / "m.db")
    try:
        await judge(store, event(0, "Hello, a question about my plan"))
        profile, tags = await read_account_tags(store, "acct")
        assert profile is not None and tags.evaluated_through is not None
        tags.tags["outage_affected"] = TagRecord(reason="the model read it so", evidence_memory_ids=[],
                                                 event_id="acct-0", set_at=START, stage="model")
        await store.update(profile.id, metadata=profile_metadata(tags.tags, tags.evaluated_through,
                                                                  load_settings().tags))
        (later,) = await judge(store, event(24 * 60, "Another question about my plan"))  # 60 days on, no outage
        _, after = await read_account_tags(store, "acct")
        assert "outage_affected" in after.tags and after.tags["outage_affected"].stage == "model"
        assert later.judgments["outage_affected"].grade == "model:disputed"
        assert later.judgments["outage_affected"].confidence == 0.0, "a cascade asks the model again"
        (rules_only,) = await judge(store, event(0, "Hello, a question about my plan", account="other"))
        assert rules_only.judgments["outage_affected"].grade == "leave:quiet"
    finally:
        await store.close()


def test_calibrate_fits_a_table_the_worker_then_uses(tmp_path: Path) -> None:
    texts = [("I want to close my account", 1), ("Close my account now please", 1), ("How do I order a card?", 0),
             ("What are your opening hours?", 0), ("Can I change my address?", 0), ("I'm leaving you", 1)]
    events, labels = tmp_path / "e.jsonl", tmp_path / "l.tsv"
    events.write_text("".join(event(i, t, f"a{i}").model_dump_json() + "\n" for i, (t, _) in enumerate(texts)))
    labels.write_text("account_id\tchurn_risk\n" + "".join(f"a{i}\t{y}\n" for i, (_, y) in enumerate(texts)))
    out = tmp_path / "cal.json"
    result = CliRunner().invoke(app, ["calibrate", "--events", str(events), "--labels", str(labels), "--out",
                                      str(out), "--source", "hand-written"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    table = load_calibration(str(out))
    assert table.source == "hand-written" and set(table.tables) == {"churn_risk"}
    assert sum(n for n, _ in table.tables["churn_risk"].values()) == len(texts)
    assert json.loads(out.read_text())["weights"]["churn_risk"]
    bad = CliRunner().invoke(app, ["calibrate", "--events", str(events), "--labels", str(labels), "--labels",
                                   str(labels), "--out", str(out)])
    assert bad.exit_code != 0 and "in pairs" in bad.output


def test_a_logistic_model_judges_only_evidence_it_was_fitted_on() -> None:
    """A bank's chat never showed a cancelled flight: that set takes the pooled record of the tag's sets, not a
    logistic score far outside what it was fitted on."""
    model = rules_model(load_settings())
    table = model.calibration
    assert table.seen("outage_affected", "set:trip_disrupted") < MIN_SEEN <= table.seen("outage_affected",
                                                                                         "set:lockout")
    text = "my flight got cancelled and nobody can rebook me"
    note = frozenset({"trip_disrupted"})
    (j,) = model.confidences({"outage_affected": ("set", None)}, note, text).values()
    assert j.grade == "set:trip_disrupted"
    assert j.confidence == table.confidence("outage_affected", "set:trip_disrupted") > 0.5
    (card,) = model.confidences({"outage_affected": ("set", None)}, frozenset({"lockout"}),
                                "my card isn't working").values()
    p = table.probability("outage_affected", [*event_features("my card isn't working", frozenset({"lockout"})),
                                               "rules:set"])
    assert p is not None and card.confidence == pytest.approx(p, abs=1e-4), "a kind it has seen: its model"


async def test_a_kept_tag_is_as_sure_as_when_the_rules_set_it(tmp_path: Path) -> None:
    store = SqliteMemoryStore(tmp_path / "m.db")
    try:
        disputed, later = await judge(store, event(0, "There is a payment on my card I don't recognise"),
                                      event(1, "Hello, where do I find my statements?"))
        assert disputed.judgments["billing_dispute"].action == "set"
        kept = later.judgments["billing_dispute"]
        assert kept.action == "keep" and kept.confidence == disputed.judgments["billing_dispute"].confidence
    finally:
        await store.close()
