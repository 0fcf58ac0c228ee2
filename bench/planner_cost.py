"""What reading one event's text costs the offline planner: rules v1 (plain patterns), v2 (phrase lexicons and
VADER's `polarity_scores`, as of git commit `V2_REF`) and the current reading (word classes, VADER's lexicon
looked up in the same pass), in µs per event, measured in one run over the same texts.

Texts: the labelled support tweets in `../shared/data/twcs_dev/events.jsonl` and the CFPB narratives when
`../shared` is there, and the seeded sample stream. The rules model reads each event twice (the note, then the
tag plan); the reading is cached per text, so the second read is a lookup: both passes are timed, and the
cache is emptied before each batch.

v2 is loaded from git (`git show V2_REF:agents/...` into a temporary package), so that before and after are
timed in the same process on the same texts; without git its column is left out.

Then the whole offline path per event (agent, tools, SQLite store; no Kafka) with v1 and the current planner
on the same events, in events/s: what a backfill pays.

Times are CPU time of this process (`time.process_time`, SQLite's worker threads included), which other work on a
shared machine disturbs far less than the wall clock. Text reading: the texts are cut into batches of 50 and
every planner reads every batch in turn, `--rounds` times; each batch counts with its fastest round, so a busy
moment of the machine inflates no planner's figure. The pipeline: the median of interleaved rounds.

Run: `.venv/bin/python -m bench.planner_cost [--rounds 9] [--no-pipeline]`.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from ticket_enricher.agents.enrichment import Enrichment
from ticket_enricher.agents.factory import build_planner
from ticket_enricher.agents.rules.baselines import RulesV1Model
from ticket_enricher.agents.rules.model import RulesModel
from ticket_enricher.agents.rules.signals import _detect, detect
from ticket_enricher.config.settings import load_settings
from ticket_enricher.core.events import TicketEvent
from ticket_enricher.memory.sqlite import SqliteMemoryStore
from ticket_enricher.samples import generate

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
ROOT = Path(__file__).resolve().parents[1]
V2_REF = "3b78ce6"  # main when this round started: rules v2 (issue 13)


def corpora() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    tweets = SHARED / "twcs_dev" / "events.jsonl"
    if tweets.is_file():
        out["twcs_dev tweets"] = [json.loads(line)["ticket"]["body"] for line in tweets.open(encoding="utf-8")]
    if (SHARED / "cfpb_complaints_sample_2015_2020.csv").is_file():
        from bench.churn_eval import cfpb_events

        out["CFPB narratives"] = [e.ticket.body for e in cfpb_events()]
    out["seeded sample stream"] = [e.ticket.body for e in generate(seed=7, accounts=400).events]
    return out


Reader = tuple[Callable[[str], object], Callable[[], None] | None]


def load_v2(tmp: Path) -> Reader | None:
    """v2's `detect` from git, as package `agents_v2` under `tmp`; None without git or the commit."""
    package = tmp / "agents_v2"
    package.mkdir()
    (package / "__init__.py").write_text("")
    for name in ("language", "lexicons", "signals"):
        try:
            source = subprocess.run(["git", "-C", str(ROOT), "show", f"{V2_REF}:agents/{name}.py"], check=True,
                                    capture_output=True, text=True).stdout
        except (OSError, subprocess.CalledProcessError):
            return None
        source = source.replace("from agents import", "from agents_v2 import").replace("from agents.",
                                                                                        "from agents_v2.")
        (package / f"{name}.py").write_text(source)
    sys.path.insert(0, str(tmp))
    signals = importlib.import_module("agents_v2.signals")
    language = importlib.import_module("agents_v2.language")

    def clear() -> None:
        language.read_text.cache_clear()
        signals._detect.cache_clear()

    signals.detect("warm up: load VADER's lexicon once")
    return signals.detect, clear


def per_event_us(readers: dict[str, Reader], texts: list[str], rounds: int) -> dict[str, float]:
    """µs per event (two reads) for each reader: batches of 50 texts, every reader on every batch in turn,
    each batch counted with its fastest of `rounds` rounds."""
    batches = [texts[i:i + 50] for i in range(0, len(texts), 50)]
    best = {name: [float("inf")] * len(batches) for name in readers}
    for _ in range(rounds):
        for k, batch in enumerate(batches):
            for name, (read, clear) in readers.items():
                if clear is not None:
                    clear()
                started = time.process_time()
                for text in batch:
                    read(text)
                    read(text)
                best[name][k] = min(best[name][k], time.process_time() - started)
    return {name: sum(b) / len(texts) * 1e6 for name, b in best.items()}


async def pipeline_rate(model: RulesModel, events: list[TicketEvent]) -> float:
    """Events per CPU second through the agent and a fresh SQLite store, caches emptied first."""
    _detect.cache_clear()
    with tempfile.TemporaryDirectory() as tmp:
        store = SqliteMemoryStore(Path(tmp) / "m.db")
        agent = Enrichment(build_planner(load_settings(), store, rules=model), store)
        started = time.process_time()
        for event in events:
            await agent.enrich([event])
        elapsed = time.process_time() - started
        await store.close()
    return len(events) / elapsed


def pipeline_events() -> dict[str, list[TicketEvent]]:
    out = {}
    tweets = SHARED / "twcs_dev" / "events.jsonl"
    if tweets.is_file():
        out["twcs_dev tweets"] = [TicketEvent.model_validate_json(line) for line in tweets.open(encoding="utf-8")]
    out["seeded sample stream"] = generate(seed=7, accounts=120).events
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--no-pipeline", action="store_true")
    args = parser.parse_args()
    settings = load_settings()
    v1 = RulesV1Model(settings.tags)
    detect("warm up: load VADER's lexicon once")
    with tempfile.TemporaryDirectory() as tmp:
        readers: dict[str, Reader] = {"v1": (v1.read, None)}
        v2 = load_v2(Path(tmp))
        if v2 is not None:
            readers["v2"] = v2
        readers["now"] = (detect, _detect.cache_clear)
        head = "".join(f"{n + ' µs/event':>15}" for n in readers)
        print(f"{'texts':<22} {'events':>6} {'mean chars':>10}{head} {'now / v1':>9}"
              + (f" {'now / v2':>9}" if v2 else ""))
        for name, texts in corpora().items():
            us = per_event_us(readers, texts, args.rounds)
            chars = sum(map(len, texts)) / len(texts)
            cells = "".join(f"{us[n]:>15.1f}" for n in readers)
            print(f"{name:<22} {len(texts):>6} {chars:>10.0f}{cells} {us['now'] / us['v1']:>8.2f}x"
                  + (f" {us['now'] / us['v2']:>8.2f}x" if v2 else ""))
    if args.no_pipeline:
        return
    print(f"\n{'agent + SQLite':<22} {'events':>6} {'v1 ev/CPU-s':>12} {'now ev/CPU-s':>13} {'now / v1':>9}")
    current = RulesModel(settings.tags, window_days=settings.agent.history_window_days,
                         search_top_k=settings.agent.search_top_k)
    for name, events in pipeline_events().items():
        rates: dict[str, list[float]] = {"v1": [], "now": []}
        for _ in range(5):  # interleaved, so that a busy moment of the machine hits both
            for label, model in (("v1", v1), ("now", current)):
                rates[label].append(asyncio.run(pipeline_rate(model, events)))
        old_rate, new_rate = statistics.median(rates["v1"]), statistics.median(rates["now"])
        print(f"{name:<22} {len(events):>6} {old_rate:>12.0f} {new_rate:>13.0f} {new_rate / old_rate:>8.2f}x")


if __name__ == "__main__":
    main()
