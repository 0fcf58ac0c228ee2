"""Model turns already paid for, recorded per event in the account's memory: no turn is paid for twice.

A *conversation* is one event judged by one planner. Its key is a digest of the planner's fingerprint (model,
instructions, tags, limits), the call parameters and the event itself (id and content), so a changed event, model
or configuration starts a new conversation. Turn i of a conversation is recorded right after the model answered
it and before its tool calls run (write-ahead). When the event runs again (a retry from a delay tier, a
redelivery after a crash or a rebalance, a redrive from the dead-letter topic), recorded turns are replayed
instead of asked again: their tool calls run again (the tools are idempotent per event), and the model is only
called for the turns it never answered. What a crash can still cost is the turns in flight at the kill: answered
but not yet recorded.

Where the records live: in the memory store, as memories of the account (`user_id`, `metadata.kind =
"model_turn"`, `requester_id` when the ticket names one), with an idempotency key per turn. So they are shared
exactly as far as the account's memory is (one SQLite file, a PostgreSQL database across hosts, one Mem0
project), an account deletion (delete by `user_id`) and a person deletion (the account's memories with their
`requester_id`) remove them with everything else, and the model never sees them (its search reads ticket notes
only). Bounded: a record holds one turn (at most `model.max_output_tokens` of answer), a conversation at most
`agent.max_turns` records, and records older than `model.turn_record_days` are pruned when the account's next
conversation starts, at most once an hour per account and member (a redelivery later than that pays again).
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections import OrderedDict
from datetime import UTC, datetime, timedelta

from pydantic import JsonValue, ValidationError

from ticket_enricher.agents.models import ModelTurn
from ticket_enricher.core.events import TicketEvent
from ticket_enricher.memory.batch import NewMemory, write_batch
from ticket_enricher.memory.filters import Cond, all_of, scope
from ticket_enricher.memory.store import EntityScope, MemoryStore

TURN_KIND = "model_turn"
_PRUNE_PAGE = 100
_PRUNE_EVERY_SECONDS = 3600.0  # per account and process: records live days, a query per event would be waste
_PRUNED: OrderedDict[str, float] = OrderedDict()  # account -> when this process last pruned it (monotonic)
_PRUNED_MAX = 100_000


def _prune_due(account_id: str) -> bool:
    now = time.monotonic()
    last = _PRUNED.get(account_id)
    if last is not None and now - last < _PRUNE_EVERY_SECONDS:
        return False
    _PRUNED[account_id] = now
    _PRUNED.move_to_end(account_id)
    while len(_PRUNED) > _PRUNED_MAX:
        _PRUNED.popitem(last=False)
    return True


def conversation_key(event: TicketEvent, fingerprint: str, parameters: str) -> str:
    """The digest of what a conversation depends on: the planner, the call parameters, the event."""
    material = b"\0".join([fingerprint.encode(), parameters.encode(), event.model_dump_json().encode()])
    return hashlib.sha256(material).hexdigest()[:32]


class GroupWrites:
    """Records written by many events at once go to the store together (group commit): a write joins the batch
    being gathered while the previous one is written, and returns once its batch is stored. One record costs a
    transaction of its own only when nothing else is being written (on SQLite: ~420 µs alone, ~60 in a batch
    of 32). Shared by every conversation of a planner."""

    def __init__(self, store: MemoryStore) -> None:
        self.store = store
        self._pending: dict[str, tuple[NewMemory, list[asyncio.Future[None]]]] = {}
        self._flushing: asyncio.Task[None] | None = None

    async def write(self, record: NewMemory) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        entry = self._pending.setdefault(record.key, (record, []))
        entry[1].append(future)
        if self._flushing is None or self._flushing.done():
            self._flushing = asyncio.create_task(self._flush(), name="turn-records")
        await asyncio.shield(future)

    async def _flush(self) -> None:
        while self._pending:
            batch, self._pending = self._pending, {}
            try:
                await write_batch(self.store, [record for record, _ in batch.values()], [])
            except Exception as error:  # noqa: BLE001 - each writer gets it; the next batch goes on
                for _, futures in batch.values():
                    for future in futures:
                        if not future.done():
                            future.set_exception(error)
                continue
            for _, futures in batch.values():
                for future in futures:
                    if not future.done():
                        future.set_result(None)


class Conversation:
    """The recorded turns of one event under one planner."""

    def __init__(self, store: MemoryStore, event: TicketEvent, key: str, keep_days: float,
                 writes: GroupWrites | None = None) -> None:
        self.store = store
        self.event = event
        self.key = key
        self.keep_days = keep_days
        self.writes = writes or GroupWrites(store)

    @property
    def _scope(self) -> EntityScope:
        return EntityScope(user_id=self.event.account_id)

    async def recorded(self) -> list[ModelTurn]:
        """The turns recorded so far, in order, up to the first gap (a record that cannot be read ends them)."""
        found = await self.store.list(filters=all_of(scope(user_id=self.event.account_id),
                                                     Cond("metadata", "eq", TURN_KIND, key="kind"),
                                                     Cond("metadata", "eq", self.key, key="conversation")),
                                      page_size=100)
        by_index: dict[int, ModelTurn] = {}
        for memory in found.results:
            index, raw = memory.metadata.get("turn"), memory.metadata.get("response")
            if not isinstance(index, int) or not isinstance(raw, str):
                continue
            try:
                by_index[index] = ModelTurn.model_validate_json(raw)
            except ValidationError:
                continue
        turns: list[ModelTurn] = []
        while len(turns) in by_index:
            turns.append(by_index[len(turns)])
        return turns

    async def record(self, index: int, turn: ModelTurn) -> None:
        """Turn `index` as the model answered it (idempotent: recording it again changes nothing), stored before
        this returns: in a batch with the turns of other events answered meanwhile (`GroupWrites`), without
        embedding the record where the store embeds what it adds."""
        if index == 0 and _prune_due(self.event.account_id):
            await self._prune()
        metadata: dict[str, JsonValue] = {
            "kind": TURN_KIND, "conversation": self.key, "turn": index, "event_id": self.event.event_id,
            "response": turn.model_dump_json(),
        }
        if self.event.ticket.requester is not None:
            metadata["requester_id"] = self.event.ticket.requester.id
        record = NewMemory(f"model turn {index} of event {self.event.event_id}", self._scope,
                           f"turn:{self.key}:{index}", metadata)
        await self.writes.write(record)

    async def _prune(self) -> None:
        """Drop this account's records older than `keep_days` (a page at a time; the next prune goes on)."""
        cutoff = datetime.now(UTC) - timedelta(days=self.keep_days)
        old = await self.store.list(filters=all_of(scope(user_id=self.event.account_id),
                                                   Cond("metadata", "eq", TURN_KIND, key="kind"),
                                                   Cond("created_at", "lt", cutoff)), page_size=_PRUNE_PAGE)
        for memory in old.results:
            await self.store.delete(memory.id)
