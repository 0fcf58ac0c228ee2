"""Tools bound to one event's account. The model never names the tenant: every call is scoped here.

Argument models forbid extra fields, so a call that tries to name an account (or anything else unknown) is
refused and reported back to the model. No delete tool exists in the ticket flow.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, ValidationError

from agents.model import ToolCall, ToolResult, ToolSpec
from agents.signals import Signal
from core.errors import ToolArgumentError
from core.events import TicketEvent
from memory.filters import Cond, Node, all_of, scope
from memory.store import EntityScope, Memory, MemoryStore

TagName = Literal["churn_risk"]
TAG_DESCRIPTIONS: dict[str, str] = {
    "churn_risk": "The account shows repeated complaints with severity or escalation language "
                  "(cancel, refund, switching provider, legal threats, repeat contacts).",
}
Category = Literal["complaint", "question", "feedback", "billing", "outage", "security", "data", "resolution"]
PROFILE_KIND = "account_profile"
NOTE_KIND = "ticket_note"
PROFILE_KEY = "account-profile"


class _Args(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SearchMemoriesArgs(_Args):
    """Search this account's prior ticket notes, most relevant and recent first."""

    query: str = Field(min_length=1, max_length=500)
    top_k: int = Field(default=10, ge=1, le=100)


class GetAccountTagsArgs(_Args):
    """Read this account's current tags, their evidence, and the newest event time they reflect."""


class AddMemoryArgs(_Args):
    """Append one synthesized note about the current ticket event to this account's memory (once per event)."""

    text: str = Field(min_length=1, max_length=2_000)
    categories: list[Category] = Field(default_factory=list, max_length=8)
    signals: list[Signal] = Field(default_factory=list, max_length=16)
    quotes: dict[Signal, str] = Field(default_factory=dict, max_length=16,
                                      description="for each signal, the short phrase that shows it")


class TagAdd(_Args):
    tag: TagName
    reason: str = Field(min_length=1, max_length=300)
    evidence_memory_ids: list[str] = Field(min_length=1, max_length=20)


class TagClear(_Args):
    tag: TagName
    reason: str = Field(min_length=1, max_length=300)


class SetAccountTagsArgs(_Args):
    """Set and/or clear this account's tags; every change carries its reason."""

    add: list[TagAdd] = Field(default_factory=list, max_length=10)
    clear: list[TagClear] = Field(default_factory=list, max_length=10)


class TagRecord(BaseModel):
    reason: str
    evidence_memory_ids: list[str]
    event_id: str
    set_at: datetime


class AccountTags(BaseModel):
    tags: dict[str, TagRecord] = Field(default_factory=dict)
    evaluated_through: datetime | None = None


@dataclass
class Effects:
    """What the tools did for this event; the outcome is built from this, never from the model's say-so."""

    memory_ids: list[str] = field(default_factory=list)
    tags_added: list[str] = field(default_factory=list)
    tags_removed: list[str] = field(default_factory=list)
    evidence: list[str] = field(default_factory=list)


def account_filter(account_id: str, kind: str) -> Node:
    """Every memory of one kind for one account: the account is Mem0's `user_id` (see `memory.store`)."""
    return all_of(scope(user_id=account_id), Cond("metadata", "eq", kind, key="kind"))


async def read_account_tags(store: MemoryStore, account_id: str) -> tuple[Memory | None, AccountTags]:
    found = (await store.list(filters=account_filter(account_id, PROFILE_KIND), page_size=1)).results
    if not found:
        return None, AccountTags()
    meta = found[0].metadata
    return found[0], AccountTags.model_validate(
        {"tags": meta.get("tags") or {}, "evaluated_through": meta.get("evaluated_through")}
    )


@dataclass
class AccountTools:
    """The tool set for one ticket event, bound to `event.account_id`."""

    event: TicketEvent
    store: MemoryStore
    effects: Effects = field(default_factory=Effects)

    def __post_init__(self) -> None:
        self._tools: dict[str, tuple[type[_Args], Callable[[_Args], Awaitable[JsonValue]]]] = {
            "search_memories": (SearchMemoriesArgs, self._search),  # type: ignore[dict-item]
            "get_account_tags": (GetAccountTagsArgs, self._get_tags),  # type: ignore[dict-item]
            "add_memory": (AddMemoryArgs, self._add_memory),  # type: ignore[dict-item]
            "set_account_tags": (SetAccountTagsArgs, self._set_tags),  # type: ignore[dict-item]
        }

    @property
    def account_id(self) -> str:
        return self.event.account_id

    def specs(self) -> list[ToolSpec]:
        return [
            ToolSpec(name=name, description=(args.__doc__ or "").strip(), parameters=args.model_json_schema())
            for name, (args, _) in self._tools.items()
        ]

    async def call(self, call: ToolCall) -> ToolResult:
        """Run one call. Bad arguments come back as an error result; infrastructure errors propagate."""
        entry = self._tools.get(call.name)
        try:
            if entry is None:
                raise ToolArgumentError(f"unknown tool {call.name!r}; available: {', '.join(self._tools)}")
            args_model, run = entry
            try:
                args = args_model.model_validate_json(call.arguments or "{}")
            except ValidationError as exc:
                raise ToolArgumentError(_short_errors(exc)) from exc
            content = await run(args)
        except ToolArgumentError as exc:
            return ToolResult(call_id=call.id, name=call.name, content=f"error: {exc}", is_error=True)
        return ToolResult(call_id=call.id, name=call.name, content=json.dumps(content, default=str))

    async def _search(self, args: SearchMemoriesArgs) -> JsonValue:
        hits = await self.store.search(
            args.query, filters=account_filter(self.account_id, NOTE_KIND), top_k=args.top_k, threshold=0.0
        )
        return [
            {"id": m.id, "memory": m.memory, "score": round(m.score, 4), "metadata": m.metadata} for m in hits
        ]

    async def _get_tags(self, args: GetAccountTagsArgs) -> JsonValue:
        _, tags = await read_account_tags(self.store, self.account_id)
        return tags.model_dump(mode="json")

    async def _add_memory(self, args: AddMemoryArgs) -> JsonValue:
        ev, ticket = self.event, self.event.ticket
        metadata: dict[str, JsonValue] = {
            "kind": NOTE_KIND,
            "event_id": ev.event_id,
            "event_type": ev.type,
            "ticket_id": ticket.id,
            "occurred_at": ev.occurred_at.isoformat(),
            "priority": ticket.priority,
            "channel": ticket.channel,
            "signals": list(dict.fromkeys(args.signals)),
            "quotes": {name: phrase[:120] for name, phrase in args.quotes.items()},
        }
        if ticket.requester is not None:
            metadata["requester_id"] = ticket.requester.id
        result = await self.store.add(
            args.text, scope=EntityScope(user_id=self.account_id), metadata=metadata,
            categories=list(dict.fromkeys(args.categories)), idempotency_key=ev.event_id, timestamp=ev.occurred_at,
        )
        if result.id not in self.effects.memory_ids:
            self.effects.memory_ids.append(result.id)
        return {"id": result.id, "created": result.created}

    async def _set_tags(self, args: SetAccountTagsArgs) -> JsonValue:
        for memory_id in {m for change in args.add for m in change.evidence_memory_ids}:
            memory = await self.store.get(memory_id)
            if memory is None or memory.user_id != self.account_id:
                raise ToolArgumentError(f"evidence memory {memory_id!r} is not one of this account's memories")
        profile, current = await read_account_tags(self.store, self.account_id)
        tags = dict(current.tags)
        added, removed = [], []
        for change in args.add:
            if change.tag not in tags:
                tags[change.tag] = TagRecord(
                    reason=change.reason, evidence_memory_ids=change.evidence_memory_ids,
                    event_id=self.event.event_id, set_at=self.event.occurred_at,
                )
                added.append(change.tag)
                self.effects.evidence.append(f"+{change.tag}: {change.reason}")
        for clear in args.clear:
            if clear.tag in tags:
                del tags[clear.tag]
                removed.append(clear.tag)
                self.effects.evidence.append(f"-{clear.tag}: {clear.reason}")
        through = max(filter(None, [current.evaluated_through, self.event.occurred_at]))
        if added or removed or through != current.evaluated_through:
            metadata: dict[str, JsonValue] = {
                "kind": PROFILE_KIND,
                "tags": {name: rec.model_dump(mode="json") for name, rec in tags.items()},
                "evaluated_through": through.isoformat(),
                # top-level scalars, so that a Mem0 filter can find every account with a tag
                **{f"tag_{name}": name in tags for name in TAG_DESCRIPTIONS},
            }
            if removed:
                metadata["last_cleared"] = {
                    c.tag: {"reason": c.reason, "event_id": self.event.event_id} for c in args.clear
                    if c.tag in removed
                }
            if profile is None:
                created = await self.store.add(
                    f"Account profile of {self.account_id}", scope=EntityScope(user_id=self.account_id),
                    metadata=metadata, idempotency_key=PROFILE_KEY,
                )
                if not created.created:
                    await self.store.update(created.id, metadata=metadata)
            else:
                await self.store.update(profile.id, metadata=metadata)
        self.effects.tags_added.extend(t for t in added if t not in self.effects.tags_added)
        self.effects.tags_removed.extend(t for t in removed if t not in self.effects.tags_removed)
        return {"tags": sorted(tags), "added": added, "removed": removed}


def _short_errors(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        where = ".".join(str(p) for p in err["loc"]) or "arguments"
        parts.append(f"{where}: {err['msg']}")
    return "invalid arguments: " + "; ".join(parts)
