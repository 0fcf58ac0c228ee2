"""Worker processes as operators run them: killed with -9 mid-stream, added and removed under load.

Every member is a real `ticket-enricher run` process on the real broker, with a model (the fake OpenAI server on
loopback) that takes tens of milliseconds per call, so that kills and rebalances land while events are in flight.
"""

from __future__ import annotations

import asyncio
import json
import random
import signal
import sqlite3
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer

from tests.conftest import TopicReader, command_env
from ticket_enricher.config.settings import Settings
from ticket_enricher.consumers.engine.clients import KafkaClients
from ticket_enricher.consumers.operations.lag import group_lag
from ticket_enricher.consumers.operations.status import describe_groups, watched_groups
from ticket_enricher.core.events import Ticket, TicketEvent
from ticket_enricher.samples.publish import publish_events
from ticket_enricher.testing.openai_server import FakeOpenAI

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(300)]
CLI = str(Path(sys.executable).with_name("ticket-enricher"))
IN_FLIGHT = 8  # per member; with 4 model calls of 50 ms per event, ~40 events/s per member
TURNS = 4  # model turns per event of the fake (`diligent`)


def make_events(accounts: int, per_account: int) -> list[TicketEvent]:
    start = datetime(2026, 11, 1, tzinfo=UTC)
    events = [
        TicketEvent(event_id=f"ev-{a}-{i}", type="ticket.created", occurred_at=start + timedelta(minutes=i),
                    account_id=f"acct-{a}", ticket=Ticket(id=f"t-{a}-{i}", subject="Dashboard down again",
                                                          body="The outage is back.", priority="high",
                                                          channel="email"))
        for i in range(per_account) for a in range(accounts)
    ]
    return events


class Members:
    """Starts and stops `ticket-enricher run` processes of one group."""

    def __init__(self, settings: Settings, model_url: str) -> None:
        self.settings = settings
        self.env = command_env(settings, model_url, **{
            "KAFKA__SESSION_TIMEOUT_MS": "6000", "WORKER__MAX_IN_FLIGHT": str(IN_FLIGHT),
            "WORKER__DRAIN_TIMEOUT_SECONDS": "20"})
        self.procs: list[subprocess.Popen[str]] = []
        self.logs: list[Path] = []

    def start(self, *args: str) -> subprocess.Popen[str]:
        log = Path(self.settings.memory.path).with_name(f"member-{len(self.procs)}.log")
        self.logs.append(log)
        env = self.env | {"TICKET_ENRICHER_KAFKA__CLIENT_ID": log.stem}  # who holds what, should a test fail
        with log.open("w") as err:
            proc = subprocess.Popen([CLI, "run", "--log-level", "WARNING", *args], env=env, text=True,
                                    stdout=subprocess.DEVNULL, stderr=err)
        self.procs.append(proc)
        return proc

    def stop_all(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.procs:
            try:
                p.wait(timeout=40)
            except subprocess.TimeoutExpired:
                p.kill()

    def stderr(self) -> str:
        return "\n".join(f"--- {log.name}\n{log.read_text()[-3000:]}" for log in self.logs)


async def enriched_ids(reader: TopicReader, settings: Settings) -> Counter[str]:
    records = await reader.read_to_end(settings.topics.enriched)
    return Counter(json.loads(r.value)["event_id"] for r in records)


async def wait_for(reader: TopicReader, settings: Settings, event_ids: set[str], members: Members,
                   timeout: float = 150) -> Counter[str]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        seen = await enriched_ids(reader, settings)
        if event_ids <= set(seen):
            return seen
        if loop.time() > deadline:
            lag = await group_lag(KafkaClients.from_settings(settings), settings.kafka.group_id,
                                  [settings.topics.tickets])
            try:
                groups: object = await describe_groups(settings, list(watched_groups(settings)))
            except Exception as error:  # the lag and the logs still say a lot
                groups = error
            raise AssertionError(f"{len(event_ids - set(seen))} events never enriched; group lag "
                                 f"{[(p.partition, p.committed, p.end) for p in lag]}; groups {groups}\n"
                                 f"{members.stderr()}")
        await asyncio.sleep(0.5)


def check_memory(path: Path, events: list[TicketEvent]) -> None:
    """One note per event, one profile per account, no tag twice, each model turn recorded once: redeliveries
    changed nothing."""
    db = sqlite3.connect(path)
    rows = db.execute("SELECT user_id, metadata FROM memories").fetchall()
    db.close()
    notes = Counter(json.loads(m)["event_id"] for _, m in rows if json.loads(m)["kind"] == "ticket_note")
    assert set(notes) == {e.event_id for e in events}, "an event left no note"
    assert max(notes.values()) == 1, f"duplicated notes: {[k for k, v in notes.items() if v > 1][:5]}"
    profiles = [(u, json.loads(m)) for u, m in rows if json.loads(m)["kind"] == "account_profile"]
    assert Counter(u for u, _ in profiles) == Counter({e.account_id: 1 for e in events})
    for _, meta in profiles:
        tags = [t if isinstance(t, str) else t["tag"] for t in meta.get("tags", [])]
        assert len(tags) == len(set(tags)), f"a tag recorded twice: {tags}"
    turns = Counter((json.loads(m)["event_id"], json.loads(m)["turn"]) for _, m in rows
                    if json.loads(m)["kind"] == "model_turn")
    assert {e for e, _ in turns} == {e.event_id for e in events}, "an event's model turns went unrecorded"
    assert max(turns.values()) == 1, "a model turn was recorded twice"


async def assert_drained(settings: Settings) -> None:
    """No partition stuck or paused: the group's committed offsets reach the end of every partition."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 30
    while True:
        lag = await group_lag(KafkaClients.from_settings(settings), settings.kafka.group_id, [settings.topics.tickets])
        if lag and all(p.lag == 0 for p in lag):
            return
        assert loop.time() < deadline, f"lag stays {[(p.partition, p.lag) for p in lag]}"
        await asyncio.sleep(0.5)


async def test_kill_9_mid_stream_repeatedly_loses_and_duplicates_nothing(
    kafka_settings: Settings, producer: AIOKafkaProducer, reader: TopicReader, slow_model: FakeOpenAI
) -> None:
    events = make_events(accounts=40, per_account=25)
    members = Members(kafka_settings, slow_model.url)
    await publish_events(producer, kafka_settings.topics.tickets, events)
    try:
        members.start()
        steady = members.start()
        victim = members.start()
        rng = random.Random(11)
        for _ in range(3):
            await asyncio.sleep(rng.uniform(1.5, 3.0))
            done = len(await enriched_ids(reader, kafka_settings))
            assert done < len(events), "the stream ended before the kill; the test proves nothing"
            victim.kill()  # SIGKILL: no drain, no commit, no leave
            victim.wait(timeout=10)
            victim = members.start()
        seen = await wait_for(reader, kafka_settings, {e.event_id for e in events}, members)
        assert steady.poll() is None, members.stderr()
        await assert_drained(kafka_settings)
    finally:
        members.stop_all()
    redelivered = sum(seen.values()) - len(events)
    calls = len(slow_model.chat_bodies())
    print(f"kill -9 x3: {len(events)} events, {redelivered} enriched again after redelivery, {calls} model calls "
          f"for {TURNS * len(events)} turns")
    assert redelivered <= 3 * IN_FLIGHT, f"{redelivered} events enriched twice; at most those in flight may be"
    # every turn a model answered is recorded before its tool calls run, so a redelivered event replays what it
    # got and pays again only for a turn answered but not yet recorded at the kill: one per event in flight
    assert calls <= TURNS * len(events) + 3 * IN_FLIGHT, f"{calls} model calls for {TURNS * len(events)} turns"
    check_memory(Path(kafka_settings.memory.path), events)


async def test_members_added_and_removed_under_load_lose_nothing(
    kafka_settings: Settings, producer: AIOKafkaProducer, reader: TopicReader, slow_model: FakeOpenAI
) -> None:
    events = make_events(accounts=50, per_account=12)
    members = Members(kafka_settings, slow_model.url)
    await publish_events(producer, kafka_settings.topics.tickets, events)
    try:
        first = members.start()
        await asyncio.sleep(2.0)
        pair = members.start("--processes", "2")  # one supervisor, two members
        await asyncio.sleep(3.0)
        assert len(await enriched_ids(reader, kafka_settings)) < len(events), "stream ended before scaling"
        first.send_signal(signal.SIGTERM)  # graceful leave under load
        assert first.wait(timeout=40) == 0, members.stderr()
        last = members.start()
        await asyncio.sleep(2.0)
        pair.send_signal(signal.SIGTERM)  # both of its members drain and leave
        assert pair.wait(timeout=40) == 0, members.stderr()
        seen = await wait_for(reader, kafka_settings, {e.event_id for e in events}, members)
        assert last.poll() is None, members.stderr()
        await assert_drained(kafka_settings)
    finally:
        members.stop_all()
    assert all(p.returncode == 0 for p in members.procs), members.stderr()
    print(f"scaling 1 -> 3 -> 2 -> 1 members: {sum(seen.values()) - len(events)} events enriched again")
    # each leaving member finished its in-flight events and committed them, with those done beyond the commit
    # point in the commit's metadata, before its partitions moved: nothing is enriched twice
    assert sum(seen.values()) == len(events), "a graceful hand-over replayed finished events"
    check_memory(Path(kafka_settings.memory.path), events)
