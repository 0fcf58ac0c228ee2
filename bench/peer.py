"""A peer on the same bench: Pyrallel Consumer 1.0 (PyPI `pyrallel-consumer`) beside our key-ordered engine.

Pyrallel Consumer is a key-ordered parallel consumer for asyncio on confluent-kafka. Its published benchmark
("sleep" workload: 4 partitions, 2,000 messages over 100 keys, 5 ms of work per message) reports 2,206 msg/s
for its async engine against 159.7 msg/s for its baseline, 13.8x. This bench runs that workload on one local
broker, one topic, every configuration in a fresh child process with its own consumer group:

* `baseline`       their baseline's shape: a plain confluent-kafka Consumer, one message per poll, time.sleep(5 ms),
                   an asynchronous commit every 100 messages (in the peer's virtualenv, which has confluent-kafka)
* `pyrallel-async` PyrallelConsumer 1.0, async engine, ordering "key_hash", `await asyncio.sleep(0.005)`, set up
                   as their benchmark does (PYRALLEL_SETTINGS below)
* `ours-baseline`  the same serial shape on our client (aiokafka: one `getone()` at a time, the handler awaited,
                   a commit every 100), so that our ratio has a baseline on our own client too
* `ours-N`         consumers.engine.ordered.KeyOrderedConsumer built the way the worker builds it
                   (`consumers.lifespan.key_ordered`: the worker's options and key order), handler
                   `await asyncio.sleep(0.005)`, max_in_flight N

Messages look like theirs ({"key", "sequence", "timestamp"} JSON, about 60 bytes; key-i for message i mod 100) and
are placed the way their librdkafka producer places them (CRC32 of the key mod partitions). Each child counts
completions per message (a handler that returned), order inversions (a key's message finishing after a later
message of that key already had), the rate over first start -> last completion, and its peak RSS (VmHWM).

Pyrallel Consumer declares Python >= 3.12; these machines have 3.11. Its virtualenv is built on first use in
~/.cache/ticket-enricher/ (or --venv DIR) with `pip install --ignore-requires-python pyrallel-consumer==1.0.0`.
If that fails, or the package cannot run, the bench says so and falls back to "reproduced": its published
workload with ours only, our ratio to our own baseline set beside their published one.

Run: `.venv/bin/python -m bench.peer` (its own broker; about a minute). The main bench calls `peer_rows(bootstrap)`
and `report_peer(rows)`. Only the standard library is imported at module level: the children in the peer's
virtualenv import this module too.
"""

from __future__ import annotations

import argparse
import asyncio
import fcntl
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from bench.peer_child import (
    _FOREIGN_ENV,
    KEYS,
    OURS,
    PARTITIONS,
    PUBLISHED,
    PYRALLEL,
    PYRALLEL_SETTINGS,
    ROOT,
    WORK_SECONDS,
    child,
    workload,
)

# -- the peer's virtualenv ------------------------------------------------------------------------------------------


def default_venv() -> Path:
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    python = f"py{sys.version_info[0]}.{sys.version_info[1]}"
    return cache / "ticket-enricher" / f"peer-{PYRALLEL.replace('==', '-')}-{python}"


def peer_python(venv: Path | None = None, say: Callable[[str], None] = print) -> tuple[Path | None, str]:
    """The peer virtualenv's interpreter, built on first use; (None, why) when it cannot be built or imported."""
    venv = (venv or default_venv()).absolute()
    python = venv / "bin" / "python"
    stamp = venv / ".complete"
    venv.parent.mkdir(parents=True, exist_ok=True)
    with open(venv.with_name(venv.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two benches building it at once wait for each other
        if not stamp.exists():
            base = shutil.which("python3.11") or sys.executable
            say(f"building the peer's virtualenv in {venv} ({PYRALLEL}, --ignore-requires-python; first use only)")
            shutil.rmtree(venv, ignore_errors=True)
            steps = [[base, "-m", "venv", str(venv)],
                     [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                      "--ignore-requires-python", PYRALLEL]]
            for step in steps:
                out = subprocess.run(step, capture_output=True, text=True)
                if out.returncode != 0:
                    tail = " ".join((out.stdout + out.stderr).split())[-600:]
                    return None, f"`{' '.join(step[:1] + step[-3:])}` failed: {tail}"
            freeze = subprocess.run([str(python), "-m", "pip", "freeze"], capture_output=True, text=True).stdout
            stamp.write_text(freeze)
    check = subprocess.run([str(python), "-c", "import pyrallel_consumer, confluent_kafka; "
                                               "print(confluent_kafka.__version__)"],
                           capture_output=True, text=True)
    if check.returncode != 0:
        tail = " ".join(check.stderr.split())[-600:]
        return None, f"the peer does not import under Python {sys.version.split()[0]}: {tail}"
    return python, ""


# -- the run ---------------------------------------------------------------------------------------------------------


async def publish(bootstrap: str, topic: str, batch: Iterable[tuple[int, bytes, bytes]]) -> None:
    from aiokafka.admin import NewTopic

    from ticket_enricher.consumers.engine.clients import KafkaClients, opened

    clients = KafkaClients.plaintext(bootstrap, "bench-peer")
    async with opened(clients.admin("setup")) as admin:
        await admin.create_topics([NewTopic(topic, num_partitions=PARTITIONS, replication_factor=1)])
        for _ in range(100):  # until every partition has a leader (else the first sends are refused and retried)
            described = await admin.describe_topics([topic]) if topic in await admin.list_topics() else []
            leaders = [p["leader"] for t in described for p in t.get("partitions", [])]
            if len(leaders) == PARTITIONS and all(leader >= 0 for leader in leaders):
                break
            await asyncio.sleep(0.1)
    # A partition whose leader the admin already reports may still refuse the first sends for a moment; aiokafka
    # retries them and warns each time: quiet for the publish only.
    sender = logging.getLogger("aiokafka.producer.sender")
    level = sender.level
    sender.setLevel(logging.ERROR)
    try:
        async with opened(clients.producer("setup", linger_ms=10)) as producer:
            for partition, key, value in batch:
                await producer.send(topic, value, key=key, partition=partition)
            await producer.flush()
    finally:
        sender.setLevel(level)


def run_child(python: Path | str, config: str, bootstrap: str, topic: str, total: int,
              max_seconds: float) -> dict[str, Any]:
    cmd = [str(python), "-m", "bench.peer", "--child", config, "--bootstrap", bootstrap, "--topic", topic,
           "--group", f"peer-{config}-{uuid.uuid4().hex[:8]}", "--messages", str(total),
           "--max-seconds", str(max_seconds)]
    env = {k: v for k, v in os.environ.items() if not k.startswith(_FOREIGN_ENV)}
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT, timeout=max_seconds + 90)
    except subprocess.TimeoutExpired as exc:
        return {"config": config, "error": f"no answer within {max_seconds + 90:.0f} s",
                "stderr": str(exc.stderr or "")[-1500:]}
    lines = [line for line in out.stdout.splitlines() if line.startswith("{")]
    if not lines:
        return {"config": config, "error": f"exit code {out.returncode}", "stderr": out.stderr[-1500:]}
    result = json.loads(lines[-1])
    if out.returncode != 0:
        result["note"] = (result.get("note", "") + f" exit code {out.returncode}").strip()
    return result


def peer_rows(bootstrap: str, messages: int = 2000, *, ours: Iterable[int] = OURS, venv: Path | None = None,
              max_seconds: float = 180.0, baseline_seconds: float = 60.0,
              say: Callable[[str], None] = print) -> list[dict[str, Any]]:
    """Publish the peer's workload on the broker at `bootstrap` and run every row; the first row says whether the
    peer ran for real ("ran") or its workload was reproduced with ours only ("reproduced", and why). The serial
    baselines (~170 msg/s) are cut after `baseline_seconds`, their rate taken over what they finished."""
    topic = f"peer-{uuid.uuid4().hex[:8]}"
    asyncio.run(publish(bootstrap, topic, workload(messages)))
    python, why = peer_python(venv, say)
    mode = {"config": "mode", "mode": "ran" if python else "reproduced", "why": why, "messages": messages,
            "topic": topic}
    rows: list[dict[str, Any]] = [mode]
    configs: list[tuple[Path | str, str]] = []
    if python:
        configs += [(python, "baseline"), (python, "pyrallel-async")]
    configs += [(sys.executable, "ours-baseline")] + [(sys.executable, f"ours-{n}") for n in ours]
    for interpreter, config in configs:
        box = min(max_seconds, baseline_seconds) if config in ("baseline", "ours-baseline") else max_seconds
        row = run_child(interpreter, config, bootstrap, topic, messages, box)
        if config == "pyrallel-async" and (row.get("error") or row.get("done") != messages):
            mode["why"] = (f"pyrallel-async did not finish: {row.get('error') or row.get('done')} of "
                           f"{messages}")
        rows.append(row)
    if not python:
        rows.append({"config": "pyrallel-async (published)", "rate": PUBLISHED["pyrallel-async"],
                     "published_baseline": PUBLISHED["baseline"]})
    return rows


def report_peer(rows: list[dict[str, Any]]) -> None:
    mode = next((r for r in rows if r["config"] == "mode"), {"mode": "?", "why": "", "messages": 0})
    by = {r["config"]: r for r in rows if r["config"] != "mode"}
    common = by.get("baseline", {}).get("rate") or by.get("ours-baseline", {}).get("rate")
    ours_base = by.get("ours-baseline", {}).get("rate")
    print(f"peer: Pyrallel Consumer 1.0, their 'sleep' workload: {mode['messages']:,} messages, {KEYS} keys, "
          f"{PARTITIONS} partitions, {WORK_SECONDS * 1000:.0f} ms of work per message")
    if mode["mode"] == "ran":
        where = by.get("pyrallel-async", {}).get("python", "?")
        print(f"pyrallel ran for real under Python {where} (installed with "
              f"--ignore-requires-python); common baseline: `baseline` (confluent-kafka, their shape)")
    else:
        print(f"pyrallel was NOT run: reproduced its workload with ours only ({mode['why']}); common baseline: "
              f"`ours-baseline`; the published row is their figures, not measured here")
    print(f"published by them (their machine, their runner): baseline {PUBLISHED['baseline']:.1f} msg/s, "
          f"pyrallel-async {PUBLISHED['pyrallel-async']:,.0f} msg/s = "
          f"{PUBLISHED['pyrallel-async'] / PUBLISHED['baseline']:.1f}x")
    if mode.get("why") and mode["mode"] == "ran":
        print(f"note: {mode['why']}")
    print(f"{'configuration':28} {'done':>6} {'msg/s':>8} {'x own base':>10} {'x common':>9} {'inversions':>10} "
          f"{'overlaps':>8} {'peak running':>12} {'CPU ms/msg':>10} {'peak RSS MB':>11}")
    for config, r in by.items():
        if r.get("error"):
            print(f"{config:28} failed: {r['error']}  {r.get('stderr', '')[-300:]}")
            continue
        if "published_baseline" in r:
            own = r["rate"] / r["published_baseline"]
            print(f"{config:28} {'-':>6} {r['rate']:>8.0f} {own:>9.1f}x {'-':>9} {'-':>10} {'-':>8} {'-':>12} "
                  f"{'-':>10} {'-':>11}")
            continue
        own_base = by.get("baseline", {}).get("rate") if config in ("baseline", "pyrallel-async") else ours_base
        own = f"{r['rate'] / own_base:.1f}x" if own_base else "-"
        vs_common = f"{r['rate'] / common:.1f}x" if common else "-"
        print(f"{config:28} {r['done']:>6} {r['rate']:>8.0f} {own:>10} {vs_common:>9} {r['inversions']:>10} "
              f"{r['overlaps']:>8} {r['peak_running']:>12} {r['cpu_ms_per_msg']:>10.2f} {r['peak_rss_mb']:>11.0f}")
    if mode["mode"] == "ran":
        print("settings: pyrallel-async " + ", ".join(f"{k}={v}" for k, v in PYRALLEL_SETTINGS.items())
              + ", the library's other defaults")
    print("settings: ours-N max_in_flight=N, max_buffered=max(1000, 4N), the worker's other defaults")
    for config, r in by.items():
        if r.get("client"):
            print(f"  {config}: {r['client']}" + (f", peak in flight {r['peak_in_flight']}"
                                                   if "peak_in_flight" in r else "")
                  + (f"; {r['note']}" if r.get("note") else "") + (f"; repeats {r['repeats']}"
                                                                   if r.get("repeats") else ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--bootstrap", help=argparse.SUPPRESS)
    parser.add_argument("--topic", help=argparse.SUPPRESS)
    parser.add_argument("--group", help=argparse.SUPPRESS)
    parser.add_argument("--messages", type=int, default=2000, help="messages on the topic (theirs: 2,000)")
    parser.add_argument("--max-seconds", type=float, default=180.0, help="time box of each configuration")
    parser.add_argument("--baseline-seconds", type=float, default=60.0,
                        help="time box of the two serial baselines (their rate is over what they finished)")
    parser.add_argument("--ours", type=int, nargs="*", default=list(OURS), help="max_in_flight of the ours-N rows")
    parser.add_argument("--venv", type=Path, help=f"the peer's virtualenv (default {default_venv()})")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON after the table")
    args = parser.parse_args()
    if args.child:
        args.config = args.child
        child(args)
        return

    from ticket_enricher.localkafka import LocalBroker

    with tempfile.TemporaryDirectory() as tmp:
        broker = LocalBroker(Path(tmp) / "broker")
        bootstrap = broker.start(say=lambda m: None)
        try:
            rows = peer_rows(bootstrap, args.messages, ours=args.ours, venv=args.venv, max_seconds=args.max_seconds,
                             baseline_seconds=args.baseline_seconds)
        finally:
            broker.stop()
    report_peer(rows)
    if args.json:
        print(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
