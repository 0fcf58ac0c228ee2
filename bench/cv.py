"""K-fold cross-validation of the rules model inside the dev set's tune split: how to judge a change to the rules
without looking at the holdout.

The holdout (`cli.evaluation.split_of(account) == "holdout"`) is dropped before anything is read: no holdout
account's events, labels or figures ever reach this script's output. The tune split's accounts are cut into
`--folds` folds by sha256(account_id) mod k (independent of the split's own mod 3). The rules are written by
hand, so there is nothing to fit per fold; what the folds give is a discipline:

- errors (the texts of misses and false alarms) are printed only for the folds named with `--read`; the
  others show aggregate figures only;
- a change is kept when it helps the mean of the folds that were *not* read to make it (and preferably every
  fold), not when it fixes the errors that were read.

Prints, per tag and fold, precision, recall and F1 of the rules model (the worker's own flow, as
`ticket-enricher eval` runs it) and of the keyword list, then the mean and the minimum over folds, and the mean
over the folds not read in this run.

Run: `.venv/bin/python -m bench.cv [--folds 5] [--read 0,1] [--json]`.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import re
import statistics
from collections import Counter
from pathlib import Path
from typing import Any

from ticket_enricher.cli.evaluation import (
    Labels,
    PlannerRun,
    errors,
    excerpts,
    load_events,
    load_labels,
    run_flow,
    run_keywords,
    score,
    split_of,
)
from ticket_enricher.config.settings import load_settings

DEV_SET = Path(__file__).resolve().parents[2] / "shared" / "data" / "twcs_dev"
TAGS = ("churn_risk", "billing_dispute", "outage_affected")


def fold_of(account_id: str, folds: int) -> int:
    return int.from_bytes(hashlib.sha256(account_id.encode("utf-8")).digest(), "big") % folds


def tune_only(labels: Labels) -> Labels:
    """The labels of the tune split's accounts: the holdout is dropped before anything else is read."""
    return Labels(labels.tags, {a: v for a, v in labels.accounts.items() if split_of(a) == "tune"})


def kind_of(reason: str) -> str:
    """What a tag's reason says set it: a leave statement, the parts of a churn score, or the signals."""
    if reason.startswith("said they would leave"):
        return "leave(" + "+".join(sorted(set(re.findall(r"(escalation_\w+) \"", reason)))) + ")"
    if m := re.match(r"score \d+ \(([^)]*)\)", reason):
        return "+".join(p.strip() for p in m.group(1).split(","))
    if m := re.match(r"\d+ event\(s\) with ([a-z_, ]+) in", reason):
        return "+".join(p.strip() for p in m.group(1).split(","))
    return reason[:30]


def _f(value: float | None) -> str:
    return "  -  " if value is None else f"{value:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--read", default="", help="folds whose errors are printed, e.g. 0,1 (default: none)")
    parser.add_argument("--events", type=Path, default=DEV_SET / "events.jsonl")
    parser.add_argument("--labels", type=Path, default=DEV_SET / "labels.tsv")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    read = {int(x) for x in args.read.split(",") if x.strip()}

    settings = load_settings()
    labels_all = load_labels(args.labels, list(settings.tags))
    labels = tune_only(labels_all)
    tune = labels.accounts
    lines = [line for line in load_events(args.events) if line.account_id in tune]
    assert all(split_of(line.account_id) == "tune" for line in lines)
    runs: list[PlannerRun] = [asyncio.run(run_flow(settings, lines)), run_keywords(lines)]
    by_fold = {k: sorted(a for a in tune if fold_of(a, args.folds) == k) for k in range(args.folds)}

    planners: dict[str, dict[str, dict[str, Any]]] = {}  # planner -> tag -> its row of the report
    result = {"accounts": len(tune), "events": len(lines), "folds": args.folds, "read": sorted(read),
              "planners": planners}
    for run in runs:
        per_fold = {k: score(run, labels, accounts) for k, accounts in by_fold.items()}
        total = score(run, labels, sorted(tune))
        table: dict[str, dict[str, Any]] = {}
        for tag in TAGS:
            f1s = [per_fold[k][tag].f1 for k in by_fold]
            unread = [per_fold[k][tag].f1 for k in by_fold if k not in read]
            table[tag] = {
                "folds": {k: per_fold[k][tag].model_dump() for k in by_fold},
                "mean_f1": statistics.mean(f1s), "min_f1": min(f1s),
                "mean_precision": statistics.mean(per_fold[k][tag].precision or 0.0 for k in by_fold),
                "mean_recall": statistics.mean(per_fold[k][tag].recall or 0.0 for k in by_fold),
                "unread_mean_f1": statistics.mean(unread) if unread else None,
                "tune": total[tag].model_dump(),
            }
        planners[run.name] = table
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        sizes = ", ".join(f"{k}: {len(a)}" for k, a in by_fold.items())
        print(f"tune split only: {len(tune)} accounts, {len(lines)} events; folds ({sizes}); read: "
              f"{sorted(read) or 'none'}")
        for name, table in planners.items():
            print(f"\n{name}")
            for tag, row in table.items():
                cells = "  ".join(f"{_f(s['precision'])}/{_f(s['recall'])}/{s['f1']:.2f}"
                                  for s in row["folds"].values())
                t = row["tune"]
                print(f"  {tag:<16} P/R/F1 per fold: {cells}")
                print(f"  {'':<16} F1 mean {row['mean_f1']:.3f} min {row['min_f1']:.3f}"
                      + (f" unread mean {row['unread_mean_f1']:.3f}" if read and row['unread_mean_f1'] is not None
                         else "")
                      + f"   mean P {row['mean_precision']:.2f} R {row['mean_recall']:.2f}"
                      + f"   tune P {_f(t['precision'])} R {_f(t['recall'])} F1 {t['f1']:.2f} "
                        f"(tp {t['tp']} fp {t['fp']} fn {t['fn']})")
    if not args.json:
        print("\nwhy the rules set each tag (counts of true / false positives, by fold group):")
        for tag in TAGS:
            for group, folds in (("read", read), ("unread", set(by_fold) - read)):
                accounts = [a for k in folds for a in by_fold[k]]
                counts: Counter[tuple[str, bool]] = Counter()
                for a in accounts:
                    found = runs[0].found.get(a, {}).get(tag)
                    if found is not None:
                        counts[(kind_of(found.reason), labels.accounts[a][tag])] += 1
                kinds = sorted({k for k, _ in counts})
                if kinds:
                    print(f"  {tag:<16} {group:<6} " + "; ".join(f"{k} {counts[(k, True)]}/{counts[(k, False)]}"
                                                             for k in kinds))
    if read:
        texts = excerpts(lines)
        shown = sorted(a for k in read for a in by_fold[k])
        for e in errors(runs[0], labels, shown, texts):
            print(f"\n[{fold_of(e.account_id, args.folds)}] {e.tag} {e.kind} {e.account_id}: {e.reason[:200]}\n"
                  f"    {texts.get(e.account_id, '')[:600]}")


if __name__ == "__main__":
    main()
