"""What reading one event's text costs the offline planner: rules v1 (plain patterns) against v2 (normalisation,
VADER, lexicons), in µs per event, measured in one run over the same texts.

Texts: the labelled support tweets in `../shared/data/twcs_dev/events.jsonl` and the CFPB narratives when
`../shared` is there, else the seeded sample stream. The rules model reads each event twice (the note, then
the tag plan); v2 caches per text, so the second read is a lookup: both passes are timed.

Then the whole offline path per event (agent, tools, SQLite store; no Kafka) with each planner on the same
events, in events/s: what a backfill pays.

Times are CPU time of this process (`time.process_time`, SQLite's worker threads included), which other work on a
shared machine disturbs far less than the wall clock; each figure is the median of interleaved rounds.

Run: `.venv/bin/python -m bench.planner_cost`.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from agents.baselines import RulesV1Model
from agents.factory import build_agent
from agents.rules import RulesModel
from agents.signals import _detect, detect
from config.settings import load_settings
from core.events import TicketEvent
from memory.sqlite import SqliteMemoryStore
from samples import generate

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


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


def per_event_us(read: Callable[[str], object], texts: list[str], *, clear: Callable[[], None] | None = None,
                 rounds: int = 5) -> float:
    """Median over rounds of (two reads per event) / events, in µs; `clear` empties a cache before each round."""
    results = []
    for _ in range(rounds):
        if clear is not None:
            clear()
        started = time.process_time()
        for text in texts:
            read(text)
            read(text)
        results.append((time.process_time() - started) / len(texts) * 1e6)
    return statistics.median(results)


async def pipeline_rate(model: RulesModel, events: list[TicketEvent]) -> float:
    """Events per CPU second through the agent and a fresh SQLite store, caches emptied first."""
    _detect.cache_clear()
    with tempfile.TemporaryDirectory() as tmp:
        store = SqliteMemoryStore(Path(tmp) / "m.db")
        agent = build_agent(load_settings(), store, model)
        started = time.process_time()
        for event in events:
            await agent.run(event)
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
    settings = load_settings()
    v1 = RulesV1Model(settings.tags)
    detect("warm up: load VADER's lexicon once")
    print(f"{'texts':<22} {'events':>6} {'mean chars':>10} {'v1 µs/event':>12} {'v2 µs/event':>12} {'v2 / v1':>8}")
    for name, texts in corpora().items():
        old = per_event_us(v1.read, texts)
        new = per_event_us(detect, texts, clear=_detect.cache_clear)
        chars = sum(map(len, texts)) / len(texts)
        print(f"{name:<22} {len(texts):>6} {chars:>10.0f} {old:>12.1f} {new:>12.1f} {new / old:>7.1f}x")
    print(f"\n{'agent + SQLite':<22} {'events':>6} {'v1 ev/CPU-s':>12} {'v2 ev/CPU-s':>12} {'v2 / v1':>8}")
    v2 = RulesModel(settings.tags, window_days=settings.agent.history_window_days,
                    search_top_k=settings.agent.search_top_k)
    for name, events in pipeline_events().items():
        rates: dict[str, list[float]] = {"v1": [], "v2": []}
        for _ in range(5):  # interleaved, so that a busy moment of the machine hits both
            for label, model in (("v1", v1), ("v2", v2)):
                rates[label].append(asyncio.run(pipeline_rate(model, events)))
        old_rate, new_rate = statistics.median(rates["v1"]), statistics.median(rates["v2"])
        print(f"{name:<22} {len(events):>6} {old_rate:>12.0f} {new_rate:>12.0f} {new_rate / old_rate:>7.2f}x")


if __name__ == "__main__":
    main()
