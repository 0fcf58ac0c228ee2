"""Sets written by hand, by a writer who never saw the rules, for what no public set here covers: a telco's
customers leaving (or not quite), airline delays (and other airline complaints), and tweets that are no complaint
(many with words a keyword list would take for one). Written on 2026-12-07 and -08 by helpers given only the kinds
of message to write, not the rules, their tests or the tags' definitions; seventeen batches, each by a helper who
saw none of the others. Batches 1, 2, 6, 9, 10, 12, 14, 15 and 16 are cut in read and held halves; batches 3, 7, 8,
11, 13 and 17 were never read (quote `--part all`); batches 4 and 5 were read whole (development sets). Batch 7's
brief named the kinds of near miss the rules were being written against (questions about cancelling, others'
cancellations told as news), so it checks those forms, not language the brief left out. Batch 11's writer
described the kinds of message it wrote in its report; no form was written after that report (version 10's forms
came from batch 10's read half).

Each file is cut in two by the first byte of sha256(line): even is the part that was read to find the rules' errors
(`--part read`), odd the part that never was (`--part held`, the figures to quote). Writes events.jsonl and
labels.tsv (one account per line, channel "social") for `ticket-enricher eval`:

    .venv/bin/python -m bench.handwritten --set churn --part held --out /tmp/hw_churn
    ticket-enricher eval --events /tmp/hw_churn/events.jsonl --labels /tmp/hw_churn/labels.tsv
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

DATA = Path(__file__).parent / "data" / "handwritten"
TAGS = ("churn_risk", "billing_dispute", "outage_affected")
# per set: (file, the labels of its lines); a tag not named is 0
SETS: dict[str, tuple[tuple[str, dict[str, int]], ...]] = {
    "churn": (("churn_intent.txt", {"churn_risk": 1}), ("churn_not.txt", {})),
    "delay": (("delay_tweets.txt", {"outage_affected": 1}), ("delay_not.txt", {})),
    "noncomplaint": (("noncomplaint_tweets.txt", {}),),
    # the second batch, by another helper given the same brief in other words (a telco's chat assistant, not tweets)
    "churn_chat": (("churn_chat.txt", {"churn_risk": 1}), ("churn_chat_not.txt", {})),
    "delay2": (("delay_tweets_2.txt", {"outage_affected": 1}), ("delay_not_2.txt", {})),
    "noncomplaint2": (("noncomplaint_tweets_2.txt", {}),),
    # the third batch, by a third helper: never read by anyone who writes the rules, both halves (quote `--part all`)
    "leave3": (("leave_telco_3.txt", {"churn_risk": 1}), ("stay_telco_3.txt", {})),
    "cancel3": (("cancelled_flights_3.txt", {"outage_affected": 1}), ("other_airline_3.txt", {})),
    "delay3": (("delayed_flights_3.txt", {"outage_affected": 1}), ("other_airline_3.txt", {})),
    "noncomplaint3": (("company_noncomplaints_3.txt", {}),),
    # the fourth and fifth batches, by two more helpers: read whole while writing rules version 7 (development
    # sets, like the "read" halves; their figures are no check)
    "leave4": (("leave_telco_4.txt", {"churn_risk": 1}), ("stay_telco_4.txt", {})),
    "noncomplaint4": (("company_noncomplaints_4.txt", {}),),
    "delay5": (("delayed_flights_5.txt", {"outage_affected": 1}), ("other_airline_5.txt", {})),
    "noncomplaint5": (("company_noncomplaints_5.txt", {}),),
    # the sixth batch, by two more helpers (one wrote the telco and non-complaint files, one the airline and bank
    # files), cut in read and held halves like batches 1 and 2; a bank's chat for lockouts and cards not working
    "leave6": (("leave_telco_6.txt", {"churn_risk": 1}), ("stay_telco_6.txt", {})),
    "delay6": (("delayed_flights_6.txt", {"outage_affected": 1}), ("other_airline_6.txt", {})),
    "bank6": (("bank_card_6.txt", {"outage_affected": 1}), ("bank_other_6.txt", {})),
    "noncomplaint6": (("company_noncomplaints_6.txt", {}),),
    # the seventh batch, by one more helper, while rules version 9 was written: cancelled flights told many ways and
    # other airline complaints (bags, crew, on-board wifi and screens, questions about cancelling, others' news);
    # never read by anyone who writes the rules, both halves (quote `--part all`)
    "cancel7": (("cancelled_flights_7.txt", {"outage_affected": 1}), ("other_airline_7.txt", {})),
    # the eighth batch, by one more helper, after rules version 9 was written: a telco's chat assistant, leavers and
    # stayers (half the stayers with "cancel", "switch", "port" or a rival in another sense); never read by anyone
    # who writes the rules (quote `--part all`)
    "chat8": (("churn_chat_8.txt", {"churn_risk": 1}), ("stay_chat_8.txt", {})),
    # the ninth batch, by one more helper given the same brief: cut in read and held halves like batches 1, 2 and 6
    "chat9": (("churn_chat_9.txt", {"churn_risk": 1}), ("stay_chat_9.txt", {})),
    # the tenth batch, by one more helper, asked for a European telco's English chat: non-native English, words
    # from German, French and Italian, leavers who rarely say "cancel"; cut in read and held halves
    "chat10": (("churn_chat_10.txt", {"churn_risk": 1}), ("stay_chat_10.txt", {})),
    # the eleventh batch, by one more helper, while version 10 was written from batch 10's read half: chat with a
    # provider in English-speaking countries, leavers who rarely say "cancel" or "switch", stayers with near
    # misses; never read by anyone who writes the rules (quote `--part all`)
    "chat11": (("churn_chat_11.txt", {"churn_risk": 1}), ("stay_chat_11.txt", {})),
    # the twelfth batch, by one more helper (told not to describe what it wrote): chat with a provider in
    # English-speaking markets, cut in read and held halves
    "chat12": (("churn_chat_12.txt", {"churn_risk": 1}), ("stay_chat_12.txt", {})),
    # the thirteenth batch, by one more helper (told not to describe what it wrote): public posts to or about
    # companies that are no complaint, two thirds with a complaint's words in another sense; never read by anyone
    # who writes the rules (quote `--part all`)
    "noncomplaint13": (("company_noncomplaints_13.txt", {}),),
    # the fourteenth batch, by one more helper (told not to describe what it wrote): posts to a company's support
    # from customers with no live problem of their own, more than half with a complaint's words in another sense
    # (fixed and thanked for, planned, negated, someone else's, a joke); cut in read and held halves
    "noncomplaint14": (("company_noncomplaints_14.txt", {}),),
    # the fifteenth batch, by one more helper (told not to describe what it wrote), while version 11 was written
    # from batch 14's read half: messages to a company from customers with no live problem, not leaving and with
    # no dispute, two thirds with a complaint's or a leaver's words in another sense; cut in read and held halves
    "noncomplaint15": (("company_noncomplaints_15.txt", {}),),
    # the sixteenth batch, by one more helper (told not to describe what it wrote): a provider's chat assistant in
    # English-speaking and other markets, leavers who mostly do not say "cancel" or "switch", stayers half with
    # such words in another sense; cut in read and held halves
    "chat16": (("churn_chat_16.txt", {"churn_risk": 1}), ("stay_chat_16.txt", {})),
    # the seventeenth batch, by one more helper (told not to describe what it wrote), after version 11's forms were
    # done: a provider's chat in many markets, leavers and stayers; never read by anyone who writes the rules (quote
    # `--part all`)
    "chat17": (("churn_chat_17.txt", {"churn_risk": 1}), ("stay_chat_17.txt", {})),
}


def part_of(line: str) -> str:
    """read or held, frozen: the first byte of sha256(line), even or odd."""
    return "read" if hashlib.sha256(line.encode()).digest()[0] % 2 == 0 else "held"


def build(name: str, part: str, out: Path) -> int:
    """Write the set's lines of `part` (read, held or all) as events and labels under `out`; how many."""
    out.mkdir(parents=True, exist_ok=True)
    n = 0
    with (out / "events.jsonl").open("w", encoding="utf-8") as ev, \
            (out / "labels.tsv").open("w", encoding="utf-8", newline="") as lab:
        lab.write("account_id\t" + "\t".join(TAGS) + "\n")
        for file, labels in SETS[name]:
            for line in (DATA / file).read_text(encoding="utf-8").splitlines():
                if not line.strip() or part != "all" and part_of(line) != part:
                    continue
                account = f"hw_{name}_{n}"
                ev.write(json.dumps({
                    "event_id": f"hw-{name}-{n}", "type": "ticket.created", "occurred_at": "2026-11-02T10:00:00Z",
                    "account_id": account, "ticket": {"id": f"T-{n}", "subject": line, "body": line,
                                                      "priority": "normal", "channel": "social", "tags": []}}) + "\n")
                lab.write(account + "\t" + "\t".join(str(labels.get(t, 0)) for t in TAGS) + "\n")
                n += 1
    return n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", choices=sorted(SETS), required=True)
    parser.add_argument("--part", choices=("held", "read", "all"), default="held",
                        help="held: never read (quote these); read: read for errors; default: %(default)s")
    parser.add_argument("--out", type=Path, required=True, help="folder to write events.jsonl and labels.tsv")
    args = parser.parse_args()
    print(f"{build(args.set, args.part, args.out)} events -> {args.out}")


if __name__ == "__main__":
    main()
