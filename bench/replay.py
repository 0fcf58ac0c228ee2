"""Replay throughput, side by side in one run, on a local broker it starts.

100,000 events of 5,000 accounts (20 each, interleaved, with broker timestamps spread over the last two days) on
4 partitions, replayed with the offline rules model and the embedded SQLite store (`ticket-enricher replay`'s own
code path, `cli.replay.run_replay`):

* dry run        on the fresh store: decides per event (would process), writes and commits nothing
* first replay   every event runs through the agent, is written and published
* rerun          the same window in a new group: every event is recognised as done (one indexed lookup each)
* baseline       a raw aiokafka read of the same window (offsets_for_times, read to the end offsets, nothing
                 else): the cost of Kafka alone, so each figure is also given as a share of it
* --processes 1 and 2: the first replay again, each on a fresh store in a fresh group, in this process and in
                 two spawned children of one parent (`cli.replay_members`), alternately for `--rounds` rounds;
                 timed from the call (planning and the children's start-up, about a second, included) and from
                 the moment every reader had started

A backfill this size amortises the children's start-up (about half a second: a fresh interpreter and its
imports); at 40,000 events (`--events 40000`) it is a tenth of a 2-process run.
Run: `.venv/bin/python -m bench.replay` (about six minutes; `--events N`, `--rounds R`). Figures go to stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiokafka import TopicPartition

from bench.cpu import busy_seconds, cpu_seconds
from ticket_enricher.config.settings import Settings, load_settings
from ticket_enricher.consumers.engine.clients import KafkaClients, opened
from ticket_enricher.core.events import Ticket, TicketEvent

ACCOUNTS, PER_ACCOUNT, PARTITIONS = 5_000, 20, 4
BODIES = ["The export failed again and we lost data.", "Thanks, that fixed it.",
          "You charged us twice this month, I want a refund.", "How do I add a user?"]


def stream(now: datetime, accounts: int = ACCOUNTS) -> list[TicketEvent]:
    start = now - timedelta(days=2)
    step = timedelta(days=2) / (accounts * PER_ACCOUNT)
    return [
        TicketEvent(event_id=f"ev-{a}-{i}", type="ticket.created", occurred_at=start + step * (i * accounts + a),
                    account_id=f"acct-{a}",
                    ticket=Ticket(id=f"t-{a}-{i}", subject="Support request", body=BODIES[(a + i) % len(BODIES)],
                                  priority="normal", channel="email"))
        for i in range(PER_ACCOUNT) for a in range(accounts)
    ]


async def publish(settings: Settings, events: list[TicketEvent]) -> None:
    async with opened(KafkaClients.from_settings(settings).producer("bench", linger_ms=20)) as producer:
        for e in events:
            await producer.send(settings.topics.tickets, e.model_dump_json().encode(), key=e.account_id.encode(),
                                timestamp_ms=int(e.occurred_at.timestamp() * 1000))
        await producer.flush()


async def raw_read(settings: Settings, since: datetime) -> tuple[int, float]:
    async with opened(KafkaClients.from_settings(settings).consumer("bench")) as consumer:
        began = time.perf_counter()
        tps = [TopicPartition(settings.topics.tickets, p) for p in range(PARTITIONS)]
        consumer.assign(tps)
        ends = await consumer.end_offsets(tps)
        starts = await consumer.offsets_for_times({tp: int(since.timestamp() * 1000) for tp in tps})
        for tp in tps:
            consumer.seek(tp, starts[tp].offset if starts[tp] else ends[tp])
        left, count = {tp for tp in tps if ends[tp] > 0}, 0
        while left:
            for tp, batch in (await consumer.getmany(*left, timeout_ms=500)).items():
                count += sum(1 for r in batch if r.offset < ends[tp])
            for tp in list(left):
                if await consumer.position(tp) >= ends[tp]:
                    left.discard(tp)
        return count, time.perf_counter() - began


def _own_cpu() -> float:
    """This process's CPU and that of its children that have exited (the replay processes, once joined)."""
    return sum(r.ru_utime + r.ru_stime for r in (resource.getrusage(resource.RUSAGE_SELF),
                                                  resource.getrusage(resource.RUSAGE_CHILDREN)))


async def measure(bootstrap: str, tmp: Path, accounts: int, rounds: int, broker_pid: int) -> None:
    from ticket_enricher.cli.replay import run_replay
    from ticket_enricher.consumers.operations.topics import create_topics

    run = uuid.uuid4().hex[:6]
    settings = load_settings(
        kafka={"bootstrap_servers": bootstrap, "group_id": f"bench-{run}"},
        topics={"tickets": f"t-{run}", "enriched": f"e-{run}", "dlq": f"d-{run}", "partitions": PARTITIONS},
        memory={"path": tmp / "memory.db"},
    )
    await create_topics(settings)
    now = datetime.now(UTC)
    events = stream(now, accounts)
    await publish(settings, events)
    since = now - timedelta(days=3)

    rows: list[tuple[str, int, float, str]] = []
    count, seconds = await raw_read(settings, since)
    baseline = count / seconds
    for label, group, dry in [("dry run", "r0", True), ("first replay", "r1", False),
                              ("rerun (all done)", "r2", False)]:
        began = time.perf_counter()
        report = await run_replay(settings, f"{settings.kafka.group_id}.{group}", since, None, dry_run=dry)
        seconds = time.perf_counter() - began
        assert report.finished and report.total == len(events), report
        rows.append((label, report.total, seconds, ", ".join(f"{k} {v}" for k, v in sorted(report.outcomes.items()))))
    scaling: list[list[float]] = []  # per round and K: ev/s from the call, from the start; CPU s: ours, broker, others
    for r in range(rounds):
        for k in (1, 2):
            fresh = settings.model_copy(update={"memory": settings.memory.model_copy(
                update={"path": tmp / f"memory-{r}-p{k}.db"})})
            busy, ours, broker = busy_seconds(), _own_cpu(), cpu_seconds(broker_pid)
            report = await run_replay(fresh, f"{settings.kafka.group_id}.{r}.p{k}", since, None, processes=k)
            busy, ours, broker = busy_seconds() - busy, _own_cpu() - ours, cpu_seconds(broker_pid) - broker
            assert report.finished and report.outcomes == {"processed": len(events)}, report
            scaling.append([report.total / report.seconds, report.total / report.working_seconds, report.seconds,
                            ours, broker, max(0.0, busy - ours - broker)])
    print(f"\nreplay of {len(events)} events, {accounts} accounts, {PARTITIONS} partitions, rules model, SQLite")
    print(f"{'run':<18} {'events':>7} {'seconds':>8} {'ev/s':>9} {'of raw read':>12}  outcomes")
    print(f"{'raw aiokafka read':<18} {count:>7} {count / baseline:>8.2f} {baseline:>9.0f} {'100 %':>12}")
    for label, total, seconds, outcomes in rows:
        rate = total / seconds
        print(f"{label:<18} {total:>7} {seconds:>8.2f} {rate:>9.0f} {rate / baseline:>11.1%}  {outcomes}")
    print("\nfirst replay, a fresh store and group each; ev/s timed from the call (planning and start-up included)"
          " and from the moment every reader had started;\nCPU seconds: ours (this process and the replay "
          "processes), the broker's, and other processes' on the same cores meanwhile")
    print(f"{'round':>5} {'processes':>9} {'ev/s (call)':>12} {'ratio':>6} {'ev/s (started)':>15} {'ratio':>6} "
          f"{'seconds':>8} {'CPU ours':>9} {'broker':>7} {'others':>7}")
    for i, (whole, started, seconds, ours, broker, others) in enumerate(scaling):
        one = scaling[i - i % 2]
        print(f"{i // 2 + 1:>5} {1 + i % 2:>9} {whole:>12.0f} {whole / one[0]:>5.2f}x {started:>15.0f} "
              f"{started / one[1]:>5.2f}x {seconds:>8.2f} {ours:>9.2f} {broker:>7.2f} {others:>7.2f}")


def main() -> None:
    from ticket_enricher.localkafka import LocalBroker

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=ACCOUNTS * PER_ACCOUNT,
                        help=f"events to replay, {PER_ACCOUNT} per account")
    parser.add_argument("--rounds", type=int, default=2, help="rounds of --processes 1 then 2")
    args = parser.parse_args()
    accounts = max(1, args.events // PER_ACCOUNT)
    with tempfile.TemporaryDirectory() as tmp:
        broker = LocalBroker(Path(tmp) / "broker")
        bootstrap = broker.start(say=lambda m: None)
        try:
            asyncio.run(measure(bootstrap, Path(tmp), accounts, args.rounds, broker.status().pid or 0))
        finally:
            broker.stop()


if __name__ == "__main__":
    main()
