"""Tombstones of forgotten subjects, and the index that finds a person's accounts, kept in the memory store itself.

Both live as memories under a reserved `agent_id` that no account filter can reach (accounts are `user_id`s),
so they are shared by every worker exactly as far as the memories are (one SQLite file, or one Mem0 project)
and need no database of their own. They hold no personal data beyond a SHA-256 of the subject's id:

* a tombstone per deleted subject (`kind = tombstone`): every later event of that subject is a no-op, so a
  replay of old ticket events cannot bring a deleted person back;
* an index entry per (person, account) pair (`kind = subject_account`), written before the agent runs, so that
  a deletion of a person (a ticket requester) finds the accounts whose notes may mention them; Mem0 refuses
  filters without an entity id, so "every note with this requester" cannot be asked directly.

Lifting a tombstone (`ticket-enricher forget --lift ...`) deletes its memory; running workers notice within
`Tombstones.remember_seconds`, and events after that are processed again (older ones too if replayed).
"""

from __future__ import annotations

import hashlib
import time
from typing import Literal

from ticket_enricher.memory.batch import NewMemory, write_batch
from ticket_enricher.memory.filters import Cond, Node, Or, all_of, scope
from ticket_enricher.memory.store import EntityScope, MemoryStore, list_all

LEDGER_AGENT = "ticket-enricher.privacy"
SubjectKind = Literal["account", "user"]


def subject_hash(kind: SubjectKind, subject_id: str) -> str:
    """The only form in which a forgotten subject's id is kept or published."""
    return hashlib.sha256(f"{kind}:{subject_id}".encode()).hexdigest()


def _ledger(kind: str, *conditions: Node) -> Node:
    return all_of(scope(agent_id=LEDGER_AGENT), Cond("metadata", "eq", kind, key="kind"), *conditions)


class Tombstones:
    """Which subjects are forgotten. A positive answer is cached for `remember_seconds` (only an operator lifts a
    tombstone, and a lift reaches running workers within that time); a negative one never is, so a deletion
    takes effect for the next event that starts after its tombstone is written."""

    def __init__(self, store: MemoryStore, *, remember_seconds: float = 60.0) -> None:
        self.store = store
        self.remember_seconds = remember_seconds
        self._known: dict[str, float] = {}  # subject hash -> monotonic time until which it is known forgotten

    async def forgotten(self, hashes: list[str]) -> bool:
        now = time.monotonic()
        if any(self._known.get(h, 0.0) > now for h in hashes):
            return True
        condition = Or(tuple(Cond("metadata", "eq", h, key="subject_hash") for h in hashes))
        found = await self.store.list(filters=_ledger("tombstone", condition), page_size=1)
        if found.results:
            self._known[str(found.results[0].metadata.get("subject_hash"))] = now + self.remember_seconds
            return True
        return False

    async def forgotten_among(self, hashes: set[str]) -> set[str]:
        """The forgotten subjects among `hashes`, in few queries (a batch asks for all its subjects at once)."""
        now = time.monotonic()
        found = {h for h in hashes if self._known.get(h, 0.0) > now}
        rest = sorted(hashes - found)
        for i in range(0, len(rest), 50):
            condition = Or(tuple(Cond("metadata", "eq", h, key="subject_hash") for h in rest[i:i + 50]))
            for memory in await list_all(self.store, filters=_ledger("tombstone", condition), page_size=200):
                digest = str(memory.metadata.get("subject_hash"))
                self._known[digest] = now + self.remember_seconds
                found.add(digest)
        return found & hashes

    async def version(self) -> int:
        """How many tombstones there are: it moves with every deletion and every lift, wherever it happened, so
        a cache of account state can tell it may hold what was deleted (`agents.state.AccountCache`)."""
        return (await self.store.list(filters=_ledger("tombstone"), page_size=1)).count

    async def add(self, digest: str, request_id: str) -> None:
        await self.store.add(
            "tombstone", scope=EntityScope(agent_id=LEDGER_AGENT),
            metadata={"kind": "tombstone", "subject_hash": digest, "request_id": request_id},
            idempotency_key=f"tombstone:{digest}",
        )
        self._known[digest] = time.monotonic() + self.remember_seconds

    async def lift(self, digest: str) -> int:
        """Delete the tombstone; returns how many there were (0 or 1)."""
        found = await self.store.list(
            filters=_ledger("tombstone", Cond("metadata", "eq", digest, key="subject_hash")), page_size=10)
        for memory in found.results:
            await self.store.delete(memory.id)
        self._known.pop(digest, None)
        return len(found.results)


class SubjectIndex:
    """(person hash, account) pairs; `record_all` is idempotent and remembered per process."""

    def __init__(self, store: MemoryStore) -> None:
        self.store = store
        self.seen: set[tuple[str, str]] = set()  # pairs written by this process (or found written)

    async def record_all(self, pairs: list[tuple[str, str]]) -> None:
        """(person id, account) pairs not recorded yet, in one batch (one transaction where the store can)."""
        new: dict[tuple[str, str], NewMemory] = {}
        for user_id, account_id in pairs:
            digest = subject_hash("user", user_id)
            if (digest, account_id) not in self.seen and (digest, account_id) not in new:
                new[(digest, account_id)] = NewMemory(
                    "subject account", EntityScope(agent_id=LEDGER_AGENT), f"subject:{digest}:{account_id}",
                    {"kind": "subject_account", "subject_hash": digest, "account_id": account_id})
        if new:
            await write_batch(self.store, list(new.values()), [])
            self.seen |= set(new)

    async def accounts(self, user_id: str) -> list[str]:
        condition = Cond("metadata", "eq", subject_hash("user", user_id), key="subject_hash")
        entries = await list_all(self.store, filters=_ledger("subject_account", condition))
        return sorted({str(m.metadata["account_id"]) for m in entries})

    async def forget_account(self, account_id: str) -> int:
        """Drop every (person, account) entry of a deleted account: with its notes gone, they would only keep
        who wrote there. Returns how many went."""
        condition = Cond("metadata", "eq", account_id, key="account_id")
        gone = 0
        while found := (await self.store.list(filters=_ledger("subject_account", condition),
                                              page_size=100)).results:
            for memory in found:
                gone += await self.store.delete(memory.id)
        self.seen = {(d, a) for d, a in self.seen if a != account_id}
        return gone

    async def forget(self, user_id: str) -> None:
        condition = Cond("metadata", "eq", subject_hash("user", user_id), key="subject_hash")
        while found := (await self.store.list(filters=_ledger("subject_account", condition),
                                              page_size=100)).results:
            for memory in found:
                await self.store.delete(memory.id)
        self.seen = {(d, a) for d, a in self.seen if d != subject_hash("user", user_id)}
