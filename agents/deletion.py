"""The deletion flow's own tool set, bound to one request's subject. The ticket agent has no delete tool at all.

Order matters: the tombstone is written first, so no event that starts after it can write for the subject;
then every memory of the subject is deleted by filter and the asynchronous delete is waited for; then list and
search must both come back empty. An event that was already running when the tombstone landed can still
write one note; verification then fails, the request is retried through a delay tier, and the second round
(with no writer left) deletes it.

Subjects (see `core.events.Subject`):
* `account_id` alone: every memory of the account (Mem0's `user_id`), by one delete-by-filter.
* `user_id` (a person, a ticket requester), with or without `account_id`: the notes whose `requester_id` is
  the person, in every account the subject index knows for them (and the given account), deleted one by one;
  the person is forgotten everywhere. Account profiles stay: tags describe the account, not the person.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pydantic import JsonValue

from ticket_enricher.agents.notes import read_account_tags
from ticket_enricher.core.errors import NotVerified
from ticket_enricher.core.events import DeletionRequest, Subject, Verification
from ticket_enricher.memory.events import delete_and_verify
from ticket_enricher.memory.filters import Cond, Node, all_of, scope
from ticket_enricher.memory.store import EntityScope, Memory, MemoryStore, list_all
from ticket_enricher.memory.tombstones import SubjectIndex, Tombstones, subject_hash


@dataclass
class Deleted:
    memories: int
    accounts: int
    verification: Verification


class DeletionTools:
    def __init__(self, store: MemoryStore, subject: Subject, *, wait_seconds: float) -> None:
        self.store = store
        self.subject = subject
        self.wait_seconds = wait_seconds
        self.tombstones = Tombstones(store)
        self.index = SubjectIndex(store)

    @property
    def hashes(self) -> list[str]:
        s = self.subject
        if s.user_id is not None:
            return [subject_hash("user", s.user_id)]
        if s.account_id is not None:
            return [subject_hash("account", s.account_id)]
        raise ValueError("a subject needs account_id, user_id or both")  # what Subject's validator enforces

    async def entomb(self, request_id: str) -> None:
        for digest in self.hashes:
            await self.tombstones.add(digest, request_id)

    async def delete(self) -> Deleted:
        if self.subject.user_id is None:
            return await self._delete_account(str(self.subject.account_id))
        return await self._delete_person(self.subject.user_id)

    async def _delete_account(self, account_id: str) -> Deleted:
        account = EntityScope(user_id=account_id)
        before = (await self.store.list(filters=account.as_filter(), page_size=1)).count
        report = await delete_and_verify(self.store, account, timeout=self.wait_seconds)
        await self.index.forget_account(account_id)  # no (person, account) entry may name a deleted account
        return Deleted(before, 1, Verification(
            verified=report.verified, delete_status=report.status,
            remaining_listed=report.remaining_listed, remaining_searched=report.remaining_searched,
        ))

    async def _delete_person(self, user_id: str) -> Deleted:
        accounts = set(await self.index.accounts(user_id))
        if self.subject.account_id is not None:
            accounts.add(self.subject.account_id)
        deleted = 0
        for account in sorted(accounts):
            for memory in await self._notes_of(user_id, account):
                deleted += await self.store.delete(memory.id)
            await self._scrub_profile(account)
        listed = searched = 0
        for account in sorted(accounts):
            person = _person_filter(user_id, account)
            listed += (await self.store.list(filters=person, page_size=10)).count
            searched += len(await self.store.search("memory", filters=person, top_k=10, threshold=0.0))
        if not listed and not searched:
            await self.index.forget(user_id)
        return Deleted(deleted, len(accounts), Verification(
            verified=listed == 0 and searched == 0, delete_status="SUCCEEDED",
            remaining_listed=listed, remaining_searched=searched,
        ))

    async def _scrub_profile(self, account_id: str) -> None:
        """The account's tags stay (they describe the account, not the person), but a tag's reason may quote a
        note of the person: where a tag's evidence names a note that no longer exists, the reason loses its
        quotes and the evidence that id. Checked against the store, so a retried request scrubs what an earlier
        attempt deleted."""
        profile, tags = await read_account_tags(self.store, account_id)
        if profile is None:
            return
        changed = False
        records: dict[str, JsonValue] = {}
        for name, record in tags.tags.items():
            kept = [m for m in record.evidence_memory_ids if await self.store.get(m) is not None]
            if kept != record.evidence_memory_ids:
                record = record.model_copy(update={"evidence_memory_ids": kept, "reason": unquoted(record.reason)})
                changed = True
            records[name] = record.model_dump(mode="json")
        if changed:
            await self.store.update(profile.id, metadata={"tags": records})

    async def _notes_of(self, user_id: str, account_id: str) -> list[Memory]:
        return await list_all(self.store, filters=_person_filter(user_id, account_id))


_QUOTED = re.compile(r'"[^"]*"|“[^”]*”')


def unquoted(reason: str) -> str:
    """A tag reason without the customer's words it quoted."""
    return _QUOTED.sub('"[deleted on request]"', reason)


def _person_filter(user_id: str, account_id: str) -> Node:
    return all_of(scope(user_id=account_id), Cond("metadata", "eq", user_id, key="requester_id"))



@dataclass(frozen=True)
class Forgotten:
    hashes: list[str]  # the subject, as it may be published
    deleted: Deleted


class Forgetting:
    """The deletion service: one call per request (tombstone, delete, wait, verify); the Kafka layer calls
    `forget` and never touches the store."""

    def __init__(self, store: MemoryStore, *, wait_seconds: float) -> None:
        self.store = store
        self.wait_seconds = wait_seconds

    async def forget(self, request: DeletionRequest) -> Forgotten:
        """Raises `NotVerified` while list or search still return memories of the subject (retried later)."""
        tools = DeletionTools(self.store, request.subject, wait_seconds=self.wait_seconds)
        await tools.entomb(request.request_id)
        deleted = await tools.delete()
        if not deleted.verification.verified:
            v = deleted.verification
            raise NotVerified(f"delete {v.delete_status}; {v.remaining_listed} listed and "
                              f"{v.remaining_searched} found by search still")
        return Forgotten(tools.hashes, deleted)
