"""Each account's state as the rules planner needs it, cached in the member that handles the account's events.

The state of an account is its ticket notes as the rules weigh them (signals, quotes, times, the planner that
last judged each) and its profile (tags, `evaluated_through`). It is read from the store once, when an event of
the account is first seen, and kept current by the writes the member makes itself, so a backfill reads each
account once instead of twice per event. It stays true because one member at a time owns an account's partition:

* a rebalance empties it (the Kafka side tells the enrichment service, which releases the planner's cache);
* a deletion anywhere (any member, any host) writes a tombstone first, and every batch compares the number of
  tombstones with the one the cache was filled under (`valid_for`): when it moved, the cache is emptied, so a
  deleted person's notes cannot come back from memory;
* a batch whose writes fail drops its accounts (the store is the truth, the cache only a copy);
* a member that still writes after losing its partition (a zombie) cannot do harm: notes are idempotent by id,
  and a profile change never rewinds a later `evaluated_through`.

The cache holds at most `max_notes` notes, dropping the accounts used longest ago beyond that.
"""

from __future__ import annotations

import bisect
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property
from typing import cast

from ticket_enricher.agents.notes import NOTE_KIND, AccountTags, account_filter, read_account_tags
from ticket_enricher.agents.rules.judgment import Note, Window
from ticket_enricher.memory.store import EntityScope, Memory, MemoryStore, list_all


def note_from(memory: Memory) -> Note | None:
    """A ticket note as the rules weigh it; None for a memory something else wrote."""
    meta = memory.metadata
    # "signals" and "quotes" as `agents.notes.new_note` writes them (a list of names, an object of phrases); a
    # value of another shape raises below (a memory that is not a note) or names no known signal.
    signals = cast(list[str], meta.get("signals") or [])
    quotes = cast(dict[str, str], meta.get("quotes") or {})
    try:
        return Note(
            memory_id=memory.id, event_id=str(meta["event_id"]), ticket_id=str(meta.get("ticket_id", "")),
            event_type=str(meta.get("event_type", "")), occurred_at=datetime.fromisoformat(str(meta["occurred_at"])),
            priority=str(meta.get("priority", "normal")), signals=frozenset(signals),
            quotes=tuple(sorted(dict(quotes).items())),
        )
    except (KeyError, ValueError, TypeError):
        return None


def _when(note: Note) -> tuple[datetime, str]:
    return note.occurred_at, note.event_id


def _time(note: Note) -> datetime:
    return note.occurred_at


@dataclass
class AccountState:
    """`memory_ids` holds every note's memory id by event id (a redelivery finds its own; an id, not the note, so
    that a long history costs little memory); `recent` the notes a judgment can still read, in time order, so
    that judging an event costs the same for an account of 5 tickets or 5,000."""

    account_id: str
    memory_ids: dict[str, str] = field(default_factory=dict)  # event id -> the note's memory id
    planners: dict[str, str] = field(default_factory=dict)  # event id -> the planner that last judged it
    profile_id: str | None = None
    tags: AccountTags = field(default_factory=AccountTags)
    recent: list[Note] = field(default_factory=list)  # by (occurred_at, event id)

    @cached_property
    def scope(self) -> EntityScope:
        """The entity scope of the account's memories (built once: a note per event)."""
        return EntityScope(user_id=self.account_id)

    def remember(self, note: Note) -> None:
        """Add or replace (a redelivery re-read under a new planner) one note."""
        if note.event_id in self.memory_ids:
            self.recent = [n for n in self.recent if n.event_id != note.event_id]
        self.memory_ids[note.event_id] = note.memory_id
        bisect.insort(self.recent, note, key=_when)

    def judged(self, now: datetime, horizon_days: int, limit: int) -> Window:
        """The newest `limit` notes of the last `horizon_days` up to `now`: what the agent's search would show
        (its `search_top_k`). Older ones are dropped from `recent` for good: tags are only judged for events at
        or after `evaluated_through`, so a later judgment's window never starts earlier than this one's, and it
        reads the newest `limit` of a superset of these notes."""
        horizon = now - timedelta(days=horizon_days)
        upto = bisect.bisect_right(self.recent, now, key=_time)
        gone = max(bisect.bisect_left(self.recent, horizon, key=_time, hi=upto), upto - limit)
        if gone > 0:
            del self.recent[:gone]
            upto -= gone
        return Window(self.recent[:upto])


async def load_state(store: MemoryStore, account_id: str) -> AccountState:
    state = AccountState(account_id)
    for memory in await list_all(store, filters=account_filter(account_id, NOTE_KIND), page_size=200):
        note = note_from(memory)
        if note is not None:
            state.memory_ids[note.event_id] = note.memory_id
            state.planners[note.event_id] = str(memory.metadata.get("planner") or "")
            state.recent.append(note)
    state.recent.sort(key=_when)
    profile, state.tags = await read_account_tags(store, account_id)
    state.profile_id = profile.id if profile is not None else None
    return state


class AccountCache:
    def __init__(self, store: MemoryStore, *, max_notes: int = 200_000) -> None:
        self.store = store
        self.max_notes = max_notes
        self._states: OrderedDict[str, AccountState] = OrderedDict()
        self._notes = 0
        self._version: int | None = None  # the tombstone count the cache was filled under

    def valid_for(self, version: int) -> None:
        """Empty the cache if a deletion happened since it was filled (`version`: the number of tombstones)."""
        if self._version is not None and version != self._version:
            self.clear()
        self._version = version

    async def states(self, accounts: Iterable[str]) -> dict[str, AccountState]:
        """The state of each account, read from the store where not cached."""
        found: dict[str, AccountState] = {}
        for account in accounts:
            state = self._states.get(account)
            if state is None:
                state = await load_state(self.store, account)
                self._states[account] = state
                self._notes += len(state.memory_ids)
            else:
                self._states.move_to_end(account)
            found[account] = state
        return found

    def grew(self, notes: int) -> None:
        """`notes` new notes were added to cached states; drop the oldest accounts beyond the bound."""
        self._notes += notes
        while self._notes > self.max_notes and len(self._states) > 1:
            _, state = self._states.popitem(last=False)
            self._notes -= len(state.memory_ids)

    def drop(self, accounts: Iterable[str]) -> None:
        for account in accounts:
            state = self._states.pop(account, None)
            if state is not None:
                self._notes -= len(state.memory_ids)

    def clear(self) -> None:
        self._states.clear()
        self._notes = 0

    def __len__(self) -> int:
        return len(self._states)
