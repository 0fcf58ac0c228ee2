"""The enrichment service: what the worker does with ticket events, however they arrive (live, from a delay tier,
or replayed). The Kafka layer calls `enrich` or `enrich_batch` and never touches the store.

Per event:
1. **Privacy gate**: an event whose account or requester has a tombstone (`memory.tombstones`) is a no-op,
   however old it is.
2. **Already done** (replays only): an event whose note carries the current planner's fingerprint was judged by
   this very planner; it is skipped. After a model or rules change it runs again and the note records both.
3. **Index** the (requester, account) pair, so that a deletion of the requester finds this account, then
   **judge** the event: an LLM through the tool loop (`agents.loop`), the offline rules model directly on the
   account's cached state (`agents.direct`, `agents.state`), a whole batch written in one transaction.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

from ticket_enricher.agents.direct import DirectPlanner, Writes, apply, is_direct
from ticket_enricher.agents.loop import Agent, AgentOutcome
from ticket_enricher.agents.notes import note_of
from ticket_enricher.agents.state import AccountCache, AccountState
from ticket_enricher.core.events import TicketEvent
from ticket_enricher.memory.batch import NewMemory, write_batch
from ticket_enricher.memory.store import EntityScope, MemoryStore
from ticket_enricher.memory.tombstones import LEDGER_AGENT, SubjectIndex, Tombstones, subject_hash

Status = Literal["processed", "forgotten", "already_done", "would_process"]
BeforeRun = Callable[[], Awaitable[object]]


@dataclass(frozen=True)
class Enriched:
    status: Status
    outcome: AgentOutcome | None = None  # set when processed


def subject_hashes(event: TicketEvent) -> list[str]:
    """The subjects a deletion may name for this event: its account, and its requester when there is one."""
    hashes = [subject_hash("account", event.account_id)]
    if event.ticket.requester is not None:
        hashes.append(subject_hash("user", event.ticket.requester.id))
    return hashes


class Enrichment:
    def __init__(self, agent: Agent, store: MemoryStore, *, cache_notes: int = 200_000) -> None:
        self.agent = agent
        self.store = store
        self.tombstones = Tombstones(store)
        self.subjects = SubjectIndex(store)
        self.direct: DirectPlanner | None = agent.model if is_direct(agent.model) else None  # type: ignore
        self.cache = AccountCache(store, max_notes=cache_notes) if self.direct is not None else None

    @property
    def planner(self) -> str:
        """The fingerprint of what judges events (`agents.factory.planner_fingerprint`)."""
        return self.agent.planner

    @property
    def batches(self) -> bool:
        """Whether whole batches go to the store at once (a deterministic planner) or events one by one."""
        return self.direct is not None

    async def enrich(self, event: TicketEvent, *, skip_done: bool = False, dry_run: bool = False,
                     before_run: BeforeRun | None = None, partition: int | None = None) -> Enriched:
        """One event. `skip_done`: skip an event the current planner already judged (replays). `dry_run`:
        decide, change nothing. `before_run` is awaited just before the event is judged (a replay's rate)."""
        if self.direct is not None:
            return (await self.enrich_batch([(event, partition)], skip_done=skip_done, dry_run=dry_run,
                                            before_run=before_run))[0]
        if await self.tombstones.forgotten(subject_hashes(event)):
            return Enriched("forgotten")
        if skip_done and await self.already_done(event):
            return Enriched("already_done")
        if dry_run:
            return Enriched("would_process")
        if before_run is not None:
            await before_run()
        if event.ticket.requester is not None:
            await self.subjects.record(event.ticket.requester.id, event.account_id)
        return Enriched("processed", await self.agent.run(event))

    async def enrich_batch(self, events: list[tuple[TicketEvent, int | None]], *, skip_done: bool = False,
                           dry_run: bool = False, before_run: BeforeRun | None = None) -> list[Enriched | Exception]:
        """Events (with the input partition each came from) in order: a deterministic planner's writes go to the
        store in one transaction; other planners' events run one by one. An event whose judgment raised has that
        error in its place (the batch goes on); the store's failure raises for the whole batch."""
        if self.direct is None:
            out: list[Enriched | Exception] = []
            for event, _ in events:
                try:
                    out.append(await self.enrich(event, skip_done=skip_done, dry_run=dry_run,
                                                 before_run=before_run))
                except Exception as error:  # noqa: BLE001 - the flow's policy decides what it means
                    out.append(error)
            return out
        assert self.cache is not None
        self.cache.valid_for(await self.tombstones.version())
        forgotten = await self.tombstones.forgotten_among({h for e, _ in events for h in subject_hashes(e)})
        live = {e.account_id: p for e, p in events if not forgotten & set(subject_hashes(e))}
        states = await self.cache.states(live) if not dry_run or skip_done else {}
        writes, results = Writes(), []
        try:
            for event, _ in events:
                results.append(await self._one(event, states, forgotten, writes, skip_done, dry_run, before_run))
            if writes.new or writes.changes or writes.profiles:
                new, changes = writes.all()
                written = await write_batch(self.store, new, changes)
                if any(p != s for p, s in written.ids.items()):  # a store that names memories itself
                    self.cache.drop(live)
                    results = [_renamed(r, written.ids) for r in results]
        except BaseException:
            self.cache.drop(live)  # the store is the truth: what these states say may not have been written
            raise
        self.cache.grew(writes.notes_added)
        self.subjects.seen |= writes.indexed
        return results

    async def _one(self, event: TicketEvent, states: dict[str, AccountState], forgotten: set[str], writes: Writes,
                   skip_done: bool, dry_run: bool, before_run: BeforeRun | None) -> Enriched | Exception:
        assert self.direct is not None
        if forgotten & set(subject_hashes(event)):
            assert self.cache is not None
            self.cache.drop([event.account_id])  # lifted some day, it must be read afresh
            return Enriched("forgotten")
        state = states.get(event.account_id)
        if skip_done and state is not None and state.planners.get(event.event_id) == self.planner:
            return Enriched("already_done")
        if dry_run:
            return Enriched("would_process")
        if before_run is not None:
            await before_run()
        assert state is not None
        try:
            if event.ticket.requester is not None:
                self._index(event.ticket.requester.id, event.account_id, writes)
            return Enriched("processed", apply(self.direct, self.planner, state, event, writes))
        except Exception as error:  # noqa: BLE001 - this event is dead-lettered by the flow, the batch goes on
            return error

    def _index(self, user_id: str, account_id: str, writes: Writes) -> None:
        digest = subject_hash("user", user_id)
        if (digest, account_id) in self.subjects.seen or (digest, account_id) in writes.indexed:
            return
        writes.indexed.add((digest, account_id))
        writes.new.append(NewMemory("subject account", EntityScope(agent_id=LEDGER_AGENT),
                                    f"subject:{digest}:{account_id}",
                                    {"kind": "subject_account", "subject_hash": digest, "account_id": account_id}))

    async def already_done(self, event: TicketEvent) -> bool:
        """The event's note exists and the current planner wrote or last re-evaluated it."""
        note = await note_of(self.store, event.account_id, event.event_id)
        return note is not None and note.metadata.get("planner") == self.planner


def _renamed(result: Enriched | Exception, ids: dict[str, str]) -> Enriched | Exception:
    """An outcome citing planned ids, with the ids the store gave those memories."""
    if isinstance(result, Exception) or result.outcome is None:
        return result
    outcome = result.outcome
    return Enriched(result.status, outcome.model_copy(update={"memory_ids": [ids.get(m, m)
                                                                             for m in outcome.memory_ids]}))
