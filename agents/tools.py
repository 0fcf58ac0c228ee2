"""Tools bound to one event's account. The model never names the tenant: every call is scoped here.

Argument models forbid extra fields, so a call that tries to name an account (or anything else unknown) is
refused and reported back to the model. A search filter may narrow the account's memories but not reach past
them: any entity id in it must be the bound account. Evidence and updates must name the account's own memories.
No delete tool exists in the ticket flow.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, JsonValue, ValidationError

from ticket_enricher.agents.models import ToolCall, ToolResult, ToolSpec
from ticket_enricher.agents.notes import (
    NOTE_KIND,
    PROFILE_KIND,
    NoteDraft,
    TagRecord,
    new_note,
    new_profile,
    planner_mark,
    profile_metadata,
    read_account_tags,
)
from ticket_enricher.agents.rules.signals import Signal
from ticket_enricher.core.errors import InvalidFilter, ToolArgumentError
from ticket_enricher.core.events import TicketEvent
from ticket_enricher.memory.batch import Change, write_batch
from ticket_enricher.memory.filters import ENTITY_FIELDS, And, Cond, Node, parse_filters, scope
from ticket_enricher.memory.store import Memory, MemoryStore

Category = Literal["complaint", "question", "feedback", "billing", "outage", "security", "data", "resolution"]
_UUID = re.compile(r"^[0-9a-fA-F-]{36}$")


class _Args(BaseModel):
    model_config = ConfigDict(extra="forbid")


# A tool's docstring is its description in every request to the model (`tool_specs`): rewrapping it changes the prompt.
class SearchMemoriesArgs(_Args):
    """Search this account's prior ticket notes (only notes), most relevant and recent first. `filters` uses Mem0's grammar
    (AND/OR/NOT, created_at gt/gte/lt/lte, categories in/contains, metadata eq/ne/contains) and is applied
    within this account; use {"AND": [{"metadata": {"kind": "ticket_note"}}]} for all notes."""  # noqa: E501 (see above)

    query: str = Field(min_length=1, max_length=500)
    filters: dict[str, JsonValue] = Field(description="required; nested Mem0 filter, within this account only")
    top_k: int = Field(default=10, ge=1, le=100)


class UpdateMemoryArgs(_Args):
    """Correct one of this account's memories by id: new text and/or metadata keys merged in."""

    memory_id: str = Field(min_length=1, max_length=100)
    text: str | None = Field(default=None, min_length=1, max_length=2_000)
    metadata: dict[str, str | int | float | bool] | None = Field(default=None, max_length=20)


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
    tag: str
    reason: str = Field(min_length=1, max_length=300, description="why, quoting the customer's words")
    evidence_memory_ids: list[str] = Field(
        min_length=1, max_length=20,
        description="ids of this account's memories that show the tag: the note added for this event and/or "
                    "notes found by search_memories")


class TagClear(_Args):
    tag: str
    reason: str = Field(min_length=1, max_length=300)


class SetAccountTagsArgs(_Args):
    """Set and/or clear this account's tags; every change carries its reason, every tag set cites the ids of
    the memories that show it."""

    add: list[TagAdd] = Field(default_factory=list, max_length=10)
    clear: list[TagClear] = Field(default_factory=list, max_length=10)


@dataclass
class Effects:
    """What the tools did for this event; the outcome is built from this, never from the model's say-so."""

    memory_ids: list[str] = field(default_factory=list)
    tags_added: list[str] = field(default_factory=list)
    tags_removed: list[str] = field(default_factory=list)
    evidence: list[str] = field(default_factory=list)


RESERVED_METADATA = frozenset({"kind", "event_id", "event_type", "ticket_id", "occurred_at", "idempotency_key",
                               "requester_id", "tags", "evaluated_through", "planner", "previous_planner"})


def bounded_filter(account_id: str, raw: dict[str, JsonValue]) -> Node:
    """The model's filter, confined to the account; refused if any entity id in it names something else."""
    try:
        node = parse_filters(raw, require_scope=False)
    except InvalidFilter as exc:
        raise ToolArgumentError(str(exc)) from exc
    for cond in _conditions(node):
        if cond.field in ENTITY_FIELDS:
            allowed = cond.field == "user_id" and (
                cond.op == "eq" and cond.value == account_id
                or cond.op == "in" and set(cond.operands()) == {account_id}
            )
            if not allowed:
                raise ToolArgumentError("filters may not name other entities: this tool only ever reads the "
                                        "current account's memories")
    return And((scope(user_id=account_id), Cond("metadata", "eq", NOTE_KIND, key="kind"), node))


def _conditions(node: Node) -> list[Cond]:
    if isinstance(node, Cond):
        return [node]
    return [c for item in node.items for c in _conditions(item)]


_ARGS: dict[str, type[_Args]] = {
    "search_memories": SearchMemoriesArgs, "get_account_tags": GetAccountTagsArgs, "add_memory": AddMemoryArgs,
    "update_memory": UpdateMemoryArgs, "set_account_tags": SetAccountTagsArgs,
}


@functools.lru_cache(maxsize=16)
def tool_specs(vocabulary: tuple[tuple[str, str], ...]) -> tuple[ToolSpec, ...]:
    """The tools' JSON schemas with the tag vocabulary filled in; built once per vocabulary (pydantic's schema
    generation costs milliseconds, every event asks)."""
    specs = []
    for name, args in _ARGS.items():
        schema = args.model_json_schema()
        for definition in schema.get("$defs", {}).values():
            if "tag" in definition.get("properties", {}):
                definition["properties"]["tag"]["enum"] = sorted(t for t, _ in vocabulary)
        description = (args.__doc__ or "").strip()
        if name == "set_account_tags":
            description += (" Tags: " + ", ".join(t for t, _ in vocabulary)
                            + " (their definitions and examples are in the instructions).")
        specs.append(ToolSpec(name=name, description=description, parameters=schema))
    return tuple(specs)


A = TypeVar("A", bound=_Args)


def _tool(args_model: type[A], handler: Callable[[A], Awaitable[JsonValue]]) -> Callable[[str], Awaitable[JsonValue]]:
    """A tool as the model calls it: its JSON arguments checked against its model, then its handler."""

    async def run(arguments: str) -> JsonValue:
        try:
            args = args_model.model_validate_json(arguments or "{}")
        except ValidationError as exc:
            raise ToolArgumentError(_short_errors(exc)) from exc
        return await handler(args)

    return run


@dataclass
class AccountTools:
    """The tool set for one ticket event, bound to `event.account_id`."""

    event: TicketEvent
    store: MemoryStore
    vocabulary: dict[str, str]  # tag name -> description the model sees
    planner: str = ""  # the model and rules that process this event (see `agents.factory.planner_fingerprint`)
    effects: Effects = field(default_factory=Effects)

    def __post_init__(self) -> None:
        self._tools: dict[str, Callable[[str], Awaitable[JsonValue]]] = {
            "search_memories": _tool(SearchMemoriesArgs, self._search),
            "get_account_tags": _tool(GetAccountTagsArgs, self._get_tags),
            "add_memory": _tool(AddMemoryArgs, self._add_memory),
            "update_memory": _tool(UpdateMemoryArgs, self._update_memory),
            "set_account_tags": _tool(SetAccountTagsArgs, self._set_tags),
        }  # the tools of `_ARGS` (what the model is offered), in its order

    @property
    def account_id(self) -> str:
        return self.event.account_id

    def specs(self) -> list[ToolSpec]:
        return list(tool_specs(tuple(sorted(self.vocabulary.items()))))

    async def call(self, call: ToolCall) -> ToolResult:
        """Run one call. Bad arguments come back as an error result; infrastructure errors propagate."""
        entry = self._tools.get(call.name)
        try:
            if entry is None:
                raise ToolArgumentError(f"unknown tool {call.name!r}; available: {', '.join(self._tools)}")
            content = await entry(call.arguments)
        except ToolArgumentError as exc:
            return ToolResult(call_id=call.id, name=call.name, content=f"error: {exc}", is_error=True)
        return ToolResult(call_id=call.id, name=call.name, content=json.dumps(content, default=str))

    async def _own_memory(self, memory_id: str) -> Memory:
        """One of this account's ticket notes, or its profile (refused by the callers that may not touch it)."""
        memory = await self.store.get(memory_id) if _UUID.match(memory_id) else None
        if memory is None or memory.user_id != self.account_id or memory.metadata.get("kind") not in (NOTE_KIND,
                                                                                                    PROFILE_KIND):
            raise ToolArgumentError(f"memory {memory_id!r} is not one of this account's memories")
        return memory

    async def _search(self, args: SearchMemoriesArgs) -> JsonValue:
        filters = bounded_filter(self.account_id, args.filters)
        hits = await self.store.search(args.query, filters=filters, top_k=args.top_k, threshold=0.0)
        return [
            {"id": m.id, "memory": m.memory, "score": round(m.score, 4), "metadata": m.metadata} for m in hits
        ]

    async def _get_tags(self, args: GetAccountTagsArgs) -> JsonValue:
        _, tags = await read_account_tags(self.store, self.account_id)
        return tags.model_dump(mode="json")

    async def _add_memory(self, args: AddMemoryArgs) -> JsonValue:
        draft = NoteDraft(text=args.text, categories=args.categories, signals=args.signals,
                          quotes=dict(args.quotes.items()))
        note = new_note(self.event, draft, self.planner)
        result = await self.store.add(note.text, scope=note.scope, metadata=note.metadata,
                                      categories=note.categories, idempotency_key=note.key,
                                      timestamp=note.timestamp)
        if not result.created:
            await self._mark_reprocessed(result.id)
        if result.id not in self.effects.memory_ids:
            self.effects.memory_ids.append(result.id)
        return {"id": result.id, "created": result.created}

    async def _mark_reprocessed(self, memory_id: str) -> None:
        """A redelivered or replayed event keeps its note; a different planner (model or rules changed since)
        is recorded on it, so the note says which planner last judged the event and which did before."""
        note = await self.store.get(memory_id)
        if note is not None and note.metadata.get("planner") != self.planner:
            await self.store.update(memory_id, metadata=planner_mark(self.planner, note.metadata.get("planner")))

    async def _update_memory(self, args: UpdateMemoryArgs) -> JsonValue:
        memory = await self._own_memory(args.memory_id)
        if memory.metadata.get("kind") == PROFILE_KIND:
            raise ToolArgumentError("the account profile changes only through set_account_tags")
        reserved = sorted(set(args.metadata or {}) & RESERVED_METADATA)
        if reserved:
            raise ToolArgumentError(f"metadata keys {', '.join(reserved)} are managed by the worker")
        if args.text is None and not args.metadata:
            raise ToolArgumentError("give text and/or metadata to change")
        updated = await self.store.update(memory.id, text=args.text, metadata=dict(args.metadata or {}) or None)
        return {"id": updated.id, "memory": updated.memory}

    async def _set_tags(self, args: SetAccountTagsArgs) -> JsonValue:
        unknown = sorted(({c.tag for c in args.add} | {c.tag for c in args.clear}) - set(self.vocabulary))
        if unknown:
            raise ToolArgumentError(f"unknown tags {', '.join(unknown)}; the vocabulary is "
                                    f"{', '.join(sorted(self.vocabulary))}")
        for memory_id in {m for change in args.add for m in change.evidence_memory_ids}:
            await self._own_memory(memory_id)
        profile, current = await read_account_tags(self.store, self.account_id)
        tags = dict(current.tags)
        added, removed = [], []
        for change in args.add:
            if change.tag not in tags:
                tags[change.tag] = TagRecord(
                    reason=change.reason, evidence_memory_ids=change.evidence_memory_ids,
                    event_id=self.event.event_id, set_at=self.event.occurred_at, stage="model", confidence=None,
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
            cleared: dict[str, JsonValue] = {c.tag: {"reason": c.reason, "event_id": self.event.event_id}
                                             for c in args.clear if c.tag in removed}
            metadata = profile_metadata(tags, through, self.vocabulary, cleared)
            if profile is None:
                await write_batch(self.store, [new_profile(self.account_id, metadata)], [])
            else:
                await write_batch(self.store, [], [Change(profile.id, metadata,
                                                          ("evaluated_through", through.isoformat()))])
        self.effects.tags_added.extend(t for t in added if t not in self.effects.tags_added)
        self.effects.tags_removed.extend(t for t in removed if t not in self.effects.tags_removed)
        return {"tags": [*sorted(tags)], "added": [*added], "removed": [*removed]}  # as list[JsonValue]


def _short_errors(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        where = ".".join(str(p) for p in err["loc"]) or "arguments"
        parts.append(f"{where}: {err['msg']}")
    return "invalid arguments: " + "; ".join(parts)
