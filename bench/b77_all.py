"""One Banking77 set labelled for all three tags at once, from the three one-tag sets in `public_dev`.

Why: the cascade watches every tag of an event at once, so how many events it sends to the model is only
measured honestly on texts labelled for every tag it watches. The three `b77_*` sets label the same Banking77
texts, each for one tag and each leaving out its own ambiguous intents; this keeps the texts all three label
(joined on the text), one account and one event per text, with the same first ticket body, so `eval --split-by
text` puts each text in the same tune or holdout part as in the one-tag sets. Nothing is read but the
labels and the bodies; no text is printed.

Run: `.venv/bin/python -m bench.b77_all --out /tmp/b77_all` then
`ticket-enricher eval --events /tmp/b77_all/events.jsonl --labels /tmp/b77_all/labels.tsv --split holdout
--split-by text --threshold 0.9`.
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

SETS = (("b77_churn", "churn_risk"), ("b77_billing", "billing_dispute"), ("b77_outage", "outage_affected"))


def _one(root: Path, name: str, tag: str) -> dict[str, tuple[dict[str, object], bool]]:
    """Text -> (its event, its label for `tag`) in one set."""
    with (root / name / "labels.tsv").open(newline="", encoding="utf-8") as f:
        labels = {r["account_id"]: r[tag].strip() == "1" for r in csv.DictReader(f, delimiter="\t")}
    out: dict[str, tuple[dict[str, object], bool]] = {}
    for line in (root / name / "events.jsonl").read_text(encoding="utf-8").splitlines():
        event = json.loads(line)
        if event["account_id"] in labels:
            out.setdefault(event["ticket"]["body"], (event, labels[event["account_id"]]))
    return out


def build(root: Path, out: Path) -> int:
    """Write events.jsonl and labels.tsv under `out`; the number of texts all three sets label."""
    parts = {tag: _one(root, name, tag) for name, tag in SETS}
    texts = sorted(set.intersection(*(set(p) for p in parts.values())))
    out.mkdir(parents=True, exist_ok=True)
    with (out / "events.jsonl").open("w", encoding="utf-8") as ev, \
            (out / "labels.tsv").open("w", encoding="utf-8", newline="") as lab:
        lab.write("account_id\t" + "\t".join(tag for _, tag in SETS) + "\n")
        for n, text in enumerate(texts):
            event = dict(parts["churn_risk"][text][0])
            account = f"b77_all_{n}"
            event.update(event_id=f"b77_all-{n}", account_id=account)
            ev.write(json.dumps(event) + "\n")
            lab.write(account + "\t" + "\t".join(str(int(parts[tag][text][1])) for _, tag in SETS) + "\n")
    return len(texts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data/public_dev"),
                        help="the public_dev folder (default: %(default)s)")
    parser.add_argument("--out", type=Path, required=True, help="folder to write events.jsonl and labels.tsv")
    args = parser.parse_args()
    n = build(args.data, args.out)
    print(f"{n} texts labelled for {', '.join(tag for _, tag in SETS)} -> {args.out}")


if __name__ == "__main__":
    main()
