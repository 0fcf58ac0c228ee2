"""`ticket-enricher eval` scores planners on labelled histories: counts checked against a hand-made fixture."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ticket_enricher.cli.evaluation import split_of
from ticket_enricher.cli.main import app
from ticket_enricher.config.settings import load_settings
from ticket_enricher.testing.openai_server import FakeOpenAI, diligent

# account -> (its messages, labels churn_risk / billing_dispute / outage_affected)
FIXTURE: dict[str, tuple[list[str], tuple[int, int, int]]] = {
    "a1": (["Never flying with you again, you lost me as a customer."], (1, 0, 0)),
    "a2": (["You charged my card twice for one order"], (0, 1, 0)),
    "a3": (["My internet is down since this morning"], (0, 0, 1)),
    "a4": (["How do I add a colleague?", "Found it, thanks!"], (0, 0, 0)),
    "a5": (["My parcel never arrived"], (1, 0, 0)),  # labelled at risk; one failure alone is below the bar
    "a6": (["I want a refund for the cold soup"], (0, 0, 0)),  # labelled no dispute; the rules read one
    "a7": ([], (0, 0, 1)),  # labelled, but no events in the file
}
# Worked out by hand from the messages above:
RULES = {"churn_risk": (1, 0, 1, 5), "billing_dispute": (1, 1, 0, 5), "outage_affected": (1, 0, 1, 5)}
# keywords: "never" (a1, a5) and "refund" (a6) for churn; "charged" (a2), "refund" (a6); "down" (a3)
KEYWORDS = {"churn_risk": (2, 1, 0, 4), "billing_dispute": (1, 1, 0, 5), "outage_affected": (1, 0, 1, 5)}


def write_fixture(tmp_path: Path, extra_column: str | None = None) -> tuple[Path, Path]:
    events, start, n = [], datetime(2026, 11, 2, 9, tzinfo=UTC), 0
    for account, (messages, _) in FIXTURE.items():
        for body in messages:
            n += 1
            events.append({"event_id": f"e-{n}", "type": "ticket.created",
                           "occurred_at": (start + timedelta(minutes=n)).isoformat(), "account_id": account,
                           "ticket": {"id": f"T-{n}", "subject": body[:60], "body": body, "priority": "normal",
                                      "channel": "social"}})
    header = ["account_id", "brand", "churn_risk", "billing_dispute", "outage_affected", "reason"]
    rows = [[a, "acme", *map(str, labels), "hand-written"] for a, (_, labels) in FIXTURE.items()]
    if extra_column:
        header.append(extra_column)
        rows = [[*r, "0"] for r in rows]
    (tmp_path / "events.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events))
    (tmp_path / "labels.tsv").write_text("\n".join("\t".join(r) for r in [header, *rows]) + "\n")
    return tmp_path / "events.jsonl", tmp_path / "labels.tsv"


def run_eval(*args: str, env: dict[str, str] | None = None) -> Any:
    result = CliRunner().invoke(app, ["eval", *args], env=env, catch_exceptions=False)
    return result


def counts(scores: dict[str, Any]) -> dict[str, tuple[int, int, int, int]]:
    return {tag: (s["tp"], s["fp"], s["fn"], s["tn"]) for tag, s in scores.items()}


def test_json_counts_and_errors_for_the_rules_and_both_baselines(tmp_path: Path) -> None:
    events, labels = write_fixture(tmp_path)
    result = run_eval("--events", str(events), "--labels", str(labels), "--json",
                      "--baseline", "keywords", "--baseline", "rules-v1")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["accounts"] == 7 and report["events"] == 7
    assert report["tags"] == ["churn_risk", "billing_dispute", "outage_affected"]  # brand and reason are not labels
    rules, keywords, v1 = report["planners"]
    assert [rules["name"], keywords["name"], v1["name"]] == ["rules", "keywords", "rules-v1"]
    assert counts(rules["scores"]) == RULES
    assert counts(keywords["scores"]) == KEYWORDS
    assert rules["scores"]["churn_risk"]["precision"] == 1.0 and rules["scores"]["churn_risk"]["recall"] == 0.5
    assert rules["scores"]["billing_dispute"]["f1"] == pytest.approx(2 / 3)
    assert v1["scores"]["churn_risk"]["tp"] == 0  # version 1 wanted two complaints with an escalation
    found = {(e["account_id"], e["tag"], e["kind"]) for e in rules["errors"]}
    assert found == {("a5", "churn_risk", "miss"), ("a6", "billing_dispute", "false_alarm"),
                     ("a7", "outage_affected", "miss")}
    alarm = next(e for e in rules["errors"] if e["kind"] == "false_alarm")
    assert "refund" in alarm["reason"] and alarm["excerpt"].startswith("I want a refund")
    assert all(not p["failures"] for p in report["planners"])


def test_the_table_shows_each_planner_and_lists_misses(tmp_path: Path) -> None:
    events, labels = write_fixture(tmp_path)
    result = run_eval("--events", str(events), "--labels", str(labels), "--baseline", "keywords",
                      env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "7 labelled accounts, 7 events" in result.output
    line = next(row for row in result.output.splitlines() if "churn_risk" in row and " rules " in row)
    assert [cell.strip() for cell in line.split("│")[3:-1]] == ["1.00", "0.50", "0.67", "1", "0", "1", "5"]
    assert "misses and false alarms (3)" in result.output and "My parcel never arrived" in result.output


def test_a_label_column_the_vocabulary_lacks_is_a_clear_error(tmp_path: Path) -> None:
    events, labels = write_fixture(tmp_path, extra_column="vip")
    result = run_eval("--events", str(events), "--labels", str(labels))
    assert result.exit_code == 2
    assert "label columns vip are not tags of the vocabulary" in result.output


def test_the_split_is_frozen_on_a_hash_of_the_account_id() -> None:
    for account in ("acme", "umbrella", "tyrell", "acct-17"):
        digest = int(hashlib.sha256(account.encode()).hexdigest(), 16)
        assert split_of(account) == ("holdout" if digest % 3 == 0 else "tune")
    assert [split_of(a) for a in ("acme", "umbrella", "tyrell")] == ["tune", "holdout", "holdout"]
    share = sum(split_of(f"acct-{i}") == "holdout" for i in range(3000)) / 3000
    assert 0.3 < share < 0.37


@pytest.fixture
def fake_openai() -> Any:
    server = FakeOpenAI().start()
    yield server
    server.stop()


def test_a_configured_model_runs_through_the_same_flow_and_waits_out_a_429(tmp_path: Path,
                                                                         fake_openai: FakeOpenAI) -> None:
    """The fake model tags every event outage_affected; its first answer is a 429, waited out like a delay tier."""
    events, labels = write_fixture(tmp_path)
    config = tmp_path / "fast-retries.toml"
    config.write_text("[retry]\ntiers_seconds = [1]\nmax_attempts = 3\nlimiter = false\n")
    fake_openai.script = diligent
    fake_openai.fail_next(1, 429, {"retry-after": "0"}, {"error": {"message": "slow down"}})
    env = {"OPENAI_BASE_URL": fake_openai.url + "/v1", "OPENAI_API_KEY": "test-not-secret"}
    result = run_eval("--events", str(events), "--labels", str(labels), "--json", "--model", "fake-model",
                      "--config", str(config), env=env)
    assert result.exit_code == 0, result.output
    (planner,) = json.loads(result.output)["planners"]
    assert planner["name"] == "fake-model" and planner["planner"].startswith("fake-model#")
    # every account with events is tagged outage_affected, a3 rightly; a7 has no events
    assert counts(planner["scores"])["outage_affected"] == (1, 5, 1, 0)
    assert not planner["failures"]
    # 7 events, 4 turns each, one 429
    assert sum(1 for r in fake_openai.requests if r.path == "/v1/chat/completions") == 7 * 4 + 1


def test_events_that_keep_failing_are_reported_not_dropped(tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    events, labels = write_fixture(tmp_path)
    config = tmp_path / "fast-retries.toml"
    # the breaker out of the way: this is about the attempt limit
    config.write_text("[retry]\ntiers_seconds = [1]\nmax_attempts = 2\nlimiter = false\n"
                      "[model]\nbreaker_failures = 100\n")
    fake_openai.script = diligent
    fake_openai.fail_next(100, 503, body={"error": {"message": "overloaded"}})
    env = {"OPENAI_BASE_URL": fake_openai.url + "/v1", "OPENAI_API_KEY": "test-not-secret"}
    result = run_eval("--events", str(events), "--labels", str(labels), "--json", "--model", "fake-model",
                      "--config", str(config), "--concurrency", "7", env=env)
    assert result.exit_code == 1
    (planner,) = json.loads(result.output)["planners"]
    assert len(planner["failures"]) == 7
    assert all(f["reason"].startswith("max_attempts") for f in planner["failures"])


def test_a_failing_model_is_reported_after_a_few_calls_not_after_the_delay_ladder(tmp_path: Path,
                                                                                fake_openai: FakeOpenAI) -> None:
    """A model that answers 503 to everything: the breaker opens after `model.breaker_failures` failed calls in
    a row and every event not done yet is reported at once as model_unavailable, instead of each one making its
    `retry.max_attempts` calls through the delay tiers (5 s, 30 s, 300 s)."""
    events, labels = write_fixture(tmp_path)
    fake_openai.script = diligent
    fake_openai.fail_next(1000, 503, body={"error": {"message": "overloaded"}})
    env = {"OPENAI_BASE_URL": fake_openai.url + "/v1", "OPENAI_API_KEY": "test-not-secret"}
    result = run_eval("--events", str(events), "--labels", str(labels), "--json", "--model", "fake-model", env=env)
    assert result.exit_code == 1, result.output
    (planner,) = json.loads(result.output)["planners"]
    reasons = [f["reason"] for f in planner["failures"]]
    assert len(reasons) == len([line for line in events.read_text().splitlines() if line.strip()]), "one per event"
    assert all(r.startswith("model_unavailable") for r in reasons), reasons
    assert len(fake_openai.chat_bodies()) == load_settings().model.breaker_failures, "calls after the breaker opened"


DEV_SET = Path(__file__).resolve().parents[2] / "shared" / "data" / "twcs_dev"


@pytest.mark.skipif(not (DEV_SET / "labels.tsv").is_file(), reason="../shared/data/twcs_dev is not here")
@pytest.mark.timeout(300)
def test_the_dev_set_when_it_is_there() -> None:
    """Real support tweets, hand-labelled: the rules model beats the keyword list on every tag, with a floor
    well below the figures reported in the README. Scored on the tune split only: a test that every run scores
    the holdout on would make the holdout a tuning signal (README, "Judgment")."""
    result = run_eval("--events", str(DEV_SET / "events.jsonl"), "--labels", str(DEV_SET / "labels.tsv"),
                      "--split", "tune", "--json", "--baseline", "keywords", "--max-errors", "0")
    assert result.exit_code == 0, result.output[-2000:]
    report = json.loads(result.output)
    assert report["accounts"] == 254 and report["events"] == 508
    rules, keywords = report["planners"]
    for tag in ("churn_risk", "billing_dispute", "outage_affected"):
        ours, theirs = rules["scores"][tag], keywords["scores"][tag]
        assert ours["tp"] + ours["fn"] == theirs["tp"] + theirs["fn"] > 0
        assert ours["f1"] > theirs["f1"], tag
        assert ours["f1"] >= 0.5 and ours["precision"] >= 0.6, (tag, ours)


def test_cross_validation_reads_the_tune_split_only() -> None:
    from bench.cv import fold_of, tune_only
    from ticket_enricher.cli.evaluation import Labels

    accounts = {f"acct-{i}": {"churn_risk": False} for i in range(300)}
    kept = tune_only(Labels(("churn_risk",), accounts)).accounts
    assert kept and all(split_of(a) == "tune" for a in kept)
    assert set(kept) == {a for a in accounts if split_of(a) == "tune"}
    assert {fold_of(a, 5) for a in kept} == set(range(5)) and fold_of("acct-1", 5) == fold_of("acct-1", 5)
