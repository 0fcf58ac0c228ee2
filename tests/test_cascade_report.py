"""The cascade report's arithmetic (`cli/cascade_report.py`) on hand-made judgments, worked out by hand."""

from __future__ import annotations

import hashlib

import pytest

from ticket_enricher.agents.planners import TagJudgment
from ticket_enricher.agents.planners.cascade import escalates, sampled
from ticket_enricher.cli.cascade_report import calibration, cascade_rows, final_judgments


def j(action: str, confidence: float) -> TagJudgment:
    return TagJudgment.model_validate({"action": action, "confidence": confidence, "grade": "hand"})


# three accounts, five events; per event the rules' judgment of two tags
JUDGMENTS = {
    "a1": {"e1": {"churn": j("leave", 0.97), "billing": j("leave", 0.91)},
           "e2": {"churn": j("set", 0.62), "billing": j("leave", 0.93)}},   # min 0.62
    "a2": {"e3": {"churn": j("leave", 0.85), "billing": j("set", 0.75)}},   # min 0.75
    "a3": {"e4": {"churn": j("leave", 0.99), "billing": j("leave", 0.96)},  # min 0.96
           "e5": {}},                                                       # older than the tags: not judged
}


def test_escalation_rate_and_error_capture_per_threshold() -> None:
    # errors (one entry per account and tag): two on a1, one on a2, one on a3
    errors = ["a1", "a1", "a2", "a3"]
    low, mid, high = cascade_rows(JUDGMENTS, errors, [0.5, 0.8, 0.97], sample=0.0)
    # 0.5: nothing below it
    assert (low.events, low.escalated, low.escalation_rate, low.captured, low.error_capture) == (5, 0, 0.0, 0, 0.0)
    # 0.8: e2 (0.62) and e3 (0.75) escalate; a1 and a2 hold 3 of the 4 errors
    assert (mid.escalated, mid.escalation_rate, mid.errors, mid.captured) == (2, 0.4, 4, 3)
    assert mid.error_capture == 0.75
    # 0.97: e1 (0.91), e2, e3, e4 (0.96); e5 has no judgments and never escalates
    assert (high.escalated, high.escalation_rate, high.captured, high.error_capture) == (4, 0.8, 4, 1.0)


def test_without_errors_or_events_the_shares_are_none() -> None:
    [row] = cascade_rows(JUDGMENTS, [], [0.8], sample=0.0)
    assert row.errors == 0 and row.error_capture is None and row.escalation_rate == 0.4
    [empty] = cascade_rows({}, ["a1"], [0.8], sample=0.0)
    assert empty.events == 0 and empty.escalation_rate is None and empty.error_capture == 0.0


def test_the_sample_is_a_fixed_share_of_event_ids_by_sha256() -> None:
    for event_id in ("e1", "e2", "evt-0042", "ticket-7"):
        fraction = int.from_bytes(hashlib.sha256(event_id.encode()).digest()[:8], "big") / 2**64
        assert sampled(event_id, 0.5) == (fraction < 0.5)
        assert sampled(event_id, 1.0) and not sampled(event_id, 0.0)
    share = sum(sampled(f"event-{i}", 0.1) for i in range(5000)) / 5000
    assert 0.08 < share < 0.12
    # a sampled event escalates even when sure; one the rules did not judge never does
    sure = {"churn": j("leave", 0.99)}
    assert escalates("any", sure, 0.8, 1.0) and not escalates("any", sure, 0.8, 0.0)
    assert not escalates("any", {}, 0.8, 1.0)


def test_the_sample_adds_sure_events_to_the_escalated_ones() -> None:
    [row] = cascade_rows(JUDGMENTS, ["a3"], [0.8], sample=1.0)
    # every judged event (e1-e4) is sampled; e5 has no judgments
    assert (row.escalated, row.captured, row.error_capture) == (4, 1, 1.0)


def test_calibration_bins_each_accounts_final_decision_against_its_label() -> None:
    labels = {"a1": {"churn": True, "billing": False}, "a2": {"churn": True, "billing": False},
              "a3": {"churn": False, "billing": True}}
    assert {a: x.confidence for a, x in final_judgments(JUDGMENTS, "churn").items()} == \
        {"a1": 0.62, "a2": 0.85, "a3": 0.99}  # a1's last event's, not its first's; a3's e5 judged nothing
    bins = calibration(JUDGMENTS, labels, ["churn", "billing"], ["a1", "a2", "a3"])
    churn = [(b.low, b.high, b.n, b.mean_confidence, b.accuracy) for b in bins["churn"]]
    # a1 set at 0.62, labelled 1: right; a2 leave at 0.85, labelled 1: wrong; a3 leave at 0.99, labelled 0: right
    assert churn == [(0.6, 0.7, 1, 0.62, 1.0), (0.8, 0.9, 1, 0.85, 0.0), (0.95, 1.0, 1, 0.99, 1.0)]
    billing = [(b.low, b.high, b.n, b.accuracy) for b in bins["billing"]]
    # a1 leave 0.93 right; a2 set 0.75 wrong (labelled 0); a3 leave 0.96 wrong (labelled 1)
    assert billing == [(0.7, 0.8, 1, 0.0), (0.9, 0.95, 1, 1.0), (0.95, 1.0, 1, 0.0)]


def test_calibration_pools_a_bin_and_reads_only_the_scored_accounts() -> None:
    judgments = {f"a{i}": {f"e{i}": {"churn": j("keep" if i % 2 else "clear", c)}}
                 for i, c in enumerate([0.81, 0.83, 0.86, 0.88, 1.0, 0.3])}
    labels = {f"a{i}": {"churn": True} for i in range(6)}
    bins = calibration(judgments, labels, ["churn"], ["a0", "a1", "a2", "a3", "a4", "a5"])
    first, pooled, top = bins["churn"]
    assert (first.low, first.high, first.n, first.accuracy) == (0.0, 0.5, 1, 1.0)  # a5 keep at 0.3: right
    assert (pooled.low, pooled.n) == (0.8, 4)
    assert pooled.mean_confidence == pytest.approx((0.81 + 0.83 + 0.86 + 0.88) / 4)
    assert pooled.accuracy == 0.5  # a1, a3 keep (right), a0, a2 clear (wrong)
    assert (top.low, top.high, top.n, top.accuracy) == (0.95, 1.0, 1, 0.0)  # 1.0 falls in the last bin
    only = calibration(judgments, labels, ["churn"], ["a1"])
    assert [(b.n, b.accuracy) for b in only["churn"]] == [(1, 1.0)]
