"""`ticket-enricher eval` measures a cascade without a model (`--threshold`, the `cascade` and `calibration`
fields and tables) and runs one with a model (`model.mode = "cascade"`): the hand-made fixture of test_eval."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.test_eval import RULES, counts, run_eval, write_fixture
from ticket_enricher.agents.planners import TagJudgment
from ticket_enricher.cli.eval import Cascade, report
from ticket_enricher.cli.evaluation import Labels, PlannerRun
from ticket_enricher.testing.openai_server import FakeOpenAI, diligent


def j(action: str, confidence: float) -> TagJudgment:
    return TagJudgment.model_validate({"action": action, "confidence": confidence, "grade": "hand"})


def test_the_json_report_carries_the_cascade_and_the_calibration_of_a_run_with_judgments() -> None:
    labels = Labels(("churn_risk",), {"a1": {"churn_risk": True}, "a2": {"churn_risk": False}})
    run = PlannerRun(name="rules", planner="rules#x", events=3, found={"a2": {}})  # a1 missed: one error
    run.judgments = {"a1": {"e1": {"churn_risk": j("leave", 0.7)}, "e2": {"churn_risk": j("leave", 0.9)}},
                     "a2": {"e3": {"churn_risk": j("leave", 0.96)}}}
    plain = PlannerRun(name="keywords", planner="keywords")
    out: Any = report([run, plain], labels, ["a1", "a2"], {}, "all", 3, 10, Cascade([0.8, 0.95], 0.0))
    rules, keywords = out["planners"]
    assert rules["cascade"] == [
        {"threshold": 0.8, "events": 3, "escalated": 1, "escalation_rate": 1 / 3, "errors": 1, "captured": 1,
         "error_capture": 1.0},
        {"threshold": 0.95, "events": 3, "escalated": 2, "escalation_rate": 2 / 3, "errors": 1, "captured": 1,
         "error_capture": 1.0}]
    # a1's final decision (e2: leave at 0.9) is wrong, a2's (leave at 0.96) right
    assert rules["calibration"] == {"churn_risk": [
        {"low": 0.9, "high": 0.95, "n": 1, "mean_confidence": 0.9, "accuracy": 0.0},
        {"low": 0.95, "high": 1.0, "n": 1, "mean_confidence": 0.96, "accuracy": 1.0}]}
    assert keywords["cascade"] == [] and keywords["calibration"] == {} and keywords["escalated"] == 0
    json.dumps(out)


def test_a_threshold_outside_0_to_1_is_refused(tmp_path: Path) -> None:
    events, labels = write_fixture(tmp_path)
    result = run_eval("--events", str(events), "--labels", str(labels), "--threshold", "1.5")
    assert result.exit_code == 2


def test_the_rules_confidence_is_measured_per_threshold_and_calibrated_per_tag(tmp_path: Path) -> None:
    events, labels = write_fixture(tmp_path)
    result = run_eval("--events", str(events), "--labels", str(labels), "--json", "--baseline", "keywords",
                      "--threshold", "0.5", "--threshold", "0.9", "--threshold", "1.0")
    assert result.exit_code == 0, result.output
    rules, keywords = json.loads(result.output)["planners"]
    rows = rules["cascade"]
    assert [r["threshold"] for r in rows] == [0.5, 0.9, 1.0]
    for row in rows:
        assert row["events"] == 7 and row["errors"] == len(rules["errors"]) and 0 <= row["captured"] <= row["errors"]
        assert row["escalation_rate"] == row["escalated"] / 7
    assert [r["escalated"] for r in rows] == sorted(r["escalated"] for r in rows), "a higher bar escalates more"
    # each of the six accounts with events has one final decision per tag, in one bin
    assert set(rules["calibration"]) == {"churn_risk", "billing_dispute", "outage_affected"}
    for bins in rules["calibration"].values():
        assert sum(b["n"] for b in bins) == 6
        assert all(b["low"] <= b["mean_confidence"] <= b["high"] and 0 <= b["accuracy"] <= 1 for b in bins)
    assert keywords["cascade"] == [] and keywords["calibration"] == {}
    text = run_eval("--events", str(events), "--labels", str(labels), env={"COLUMNS": "200"})
    assert "cascade: what the model would see" in text.output and "calibration" in text.output


@pytest.fixture
def fake_openai() -> Any:
    server = FakeOpenAI().start()
    server.script = diligent
    yield server
    server.stop()


def cascade_eval(tmp_path: Path, fake_openai: FakeOpenAI, threshold: float, sample: float) -> Any:
    events, labels = write_fixture(tmp_path)
    config = tmp_path / "cascade.toml"
    config.write_text(f'[model]\nmode = "cascade"\n[cascade]\nthreshold = {threshold}\nsample = {sample}\n'
                      f"[cascade.thresholds]\noutage_affected = {threshold}\n[retry]\nlimiter = false\n")
    env = {"OPENAI_BASE_URL": fake_openai.url + "/v1", "OPENAI_API_KEY": "test-not-secret"}
    result = run_eval("--events", str(events), "--labels", str(labels), "--json", "--model", "fake-model",
                      "--config", str(config), env=env)
    assert result.exit_code == 0, result.output
    (planner,) = json.loads(result.output)["planners"]
    return planner


def test_a_cascade_whose_rules_are_sure_pays_no_model_call(tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    planner = cascade_eval(tmp_path, fake_openai, threshold=0.0, sample=0.0)
    assert planner["name"] == "cascade(rules→fake-model)" and planner["planner"].startswith("cascade(")
    assert planner["escalated"] == 0 and not fake_openai.chat_bodies()
    assert counts(planner["scores"]) == RULES, "the rules' own scores"
    assert planner["per_1000_events"]["model_calls"] == 0


def test_a_cascade_sending_every_event_scores_the_models_tags_and_costs_its_calls(
        tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    planner = cascade_eval(tmp_path, fake_openai, threshold=0.0, sample=1.0)
    assert planner["escalated"] == 7
    assert len(fake_openai.chat_bodies()) == 7 * 4, "diligent: four turns per event"
    assert planner["per_1000_events"]["model_calls"] == 4000
    # the model tags every account with events outage_affected (a3 rightly); the rules' other tags stay
    assert counts(planner["scores"])["outage_affected"] == (1, 5, 1, 0)
    assert planner["cascade"][0]["escalated"] == 7
