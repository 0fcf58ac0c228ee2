"""The tables `bench.throughput` prints from its rows: rates, ratios to the bound and the pass-through, CPU."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bench.workload import (
    LATENCY,
    MODEL_ACCOUNTS,
    MODEL_CONFIGS,
    OFFLINE_CONFIGS,
    PARTITIONS,
    SKEW,
    SKEW_CONFIGS,
    TURNS,
    ZIPF_ACCOUNTS,
    percentile,
)


class Saved(list):
    """The rows so far, also written to `path` after each one (a failure late in a long run loses nothing:
    `--report PATH` prints them)."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path

    def append(self, row: dict[str, Any]) -> None:
        super().append(row)
        self.path.write_text(json.dumps(list(self)))

    def extend(self, rows: Any) -> None:
        for row in rows:
            self.append(row)


def cpu_ms(row: dict[str, Any], whose: str = "ours", scale: float = 1.0) -> str:
    """CPU per finished event in ms (`scale` 1000: µs): the members' own, or the fake model's or broker's."""
    spent = row.get("cpu_seconds") if whose == "ours" else row.get("others_cpu_seconds", {}).get(whose)
    if spent is None or spent != spent or not row.get("done"):
        return "-"
    return f"{spent / row['done'] * 1000 * scale:.2f}" if scale == 1 else f"{spent / row['done'] * 1e6:.0f}"


def report(results: list[dict[str, Any]], offline_events: int) -> None:
    by = {r["config"]: r for r in results}
    stock = by.get("stock", {}).get("rate")
    if any(c in by for c in MODEL_CONFIGS):
        print(f"model-bound: {MODEL_ACCOUNTS} accounts, 2,000 events, {PARTITIONS} partitions, {TURNS} completions"
              f" x {LATENCY * 1000:.0f} ms per event (L = {TURNS * LATENCY:.1f} s)")
        print(f"{'configuration':27} {'events':>7} {'ev/s':>8} {'bound':>7} {'of bound':>9} {'x stock':>8} "
              f"{'peak N':>9} {'order viol.':>11} {'peak RSS MB':>12} {'CPU ms/ev: ours':>16} {'model':>6} "
              f"{'broker':>6}")
    for config in [c for name in MODEL_CONFIGS for c in (name, f"{name} (no turn records)", f"{name} (before)")]:
        r = by.get(config)
        if r is None:
            continue
        n = int(config.split("-")[1].split()[0].split("x")[0]) if config.startswith("ours") else (
            1 if config == "stock" else 64)
        bound = min(n * r.get("members", 1), MODEL_ACCOUNTS) / (TURNS * LATENCY)
        print(f"{config:27} {r['done']:>7} {r['rate']:>8.1f} {bound:>7.1f} {r['rate'] / bound:>8.1%} "
              f"{(r['rate'] / stock if stock else float('nan')):>7.1f}x {r.get('peak_in_flight', '-'):>9} "
              f"{r['violations']:>11} {r['peak_rss_mb']:>12.0f} {cpu_ms(r):>16} {cpu_ms(r, 'model'):>6} "
              f"{cpu_ms(r, 'broker'):>6}")
    if any(c in by for c in SKEW_CONFIGS):
        print(f"\nskewed keys, open loop: {SKEW['events']} events at {SKEW['rate']:.0f}/s over {SKEW['accounts']:,}"
              f" accounts, ours-64 on the model; latency (s) from the intended send instant, p50 / p99")
        print(f"{'configuration':27} {'events':>7} {'all':>15} {'top account':>15} {'the others':>15} "
              f"{'top share':>10} {'order viol.':>11} {'peak RSS MB':>12}")
        for config in SKEW_CONFIGS:
            r = by.get(config)
            if r is None:
                continue
            lat = r["latency"]
            cell = lambda v: f"{percentile(v, 50):6.2f} / {percentile(v, 99):5.2f}" if v else f"{'-':>15}"  # noqa: E731
            share = len(lat["hot"]) / max(1, len(lat["all"]))
            print(f"{config:27} {r['done']:>7} {cell(lat['all']):>15} {cell(lat['hot']):>15} "
                  f"{cell(lat['others']):>15} {share:>10.1%} {r['violations']:>11} {r['peak_rss_mb']:>12.0f}")
    if any(c in by for c in OFFLINE_CONFIGS):
        print(f"\noffline backfill: {offline_events:,} events, rules model, batch mode; offline on the SQLite store "
              f"(500 accounts), offline-postgres on PostgreSQL, offline-zipf on {ZIPF_ACCOUNTS:,} Zipf-keyed "
              f"accounts (s = {SKEW['s']})")
        base = by.get("passthrough", {}).get("rate")
        for config in [c for name in OFFLINE_CONFIGS for c in (name, f"{name} (before)")]:
            r = by.get(config)
            if r is None:
                continue
            ratio = f"{r['rate'] / base:.1%} of pass-through" if base else ""
            print(f"{config:27} {r['done']:>7} {r['rate']:>8.0f} ev/s  {ratio:24} order viol. {r['violations']}"
                  f"  peak RSS {r['peak_rss_mb']:.0f} MB  CPU/ev ours {cpu_ms(r, scale=1000)} us, broker "
                  f"{cpu_ms(r, 'broker', scale=1000)} us")
    peers = [r for r in results if r["config"].startswith("peer:")]
    if peers:
        from bench.peer import report_peer

        print()
        report_peer([r | {"config": r["config"].removeprefix("peer:")} for r in peers])

