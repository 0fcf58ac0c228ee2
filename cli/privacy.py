"""`ticket-enricher forget` and `export`: the data subject's requests from the command line."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from aiokafka import TopicPartition
from pydantic import JsonValue

from ticket_enricher.cli.common import BootstrapOpt, ConfigOpt, MemoryOpt, ModelOpt, settings_from
from ticket_enricher.config.settings import Settings
from ticket_enricher.core.events import DeletionCompleted, DeletionRequest, Subject


def forget(
    account: Annotated[str | None, typer.Option(help="Forget this account: every memory of it.",
                                                show_default=False)] = None,
    user: Annotated[str | None, typer.Option(help="Forget this person (a ticket requester id): their notes in "
                                                  "every account.", show_default=False)] = None,
    request_id: Annotated[str | None, typer.Option(help="The request's id (default: a new UUID); a retried "
                                                        "request with the same id is harmless.",
                                                   show_default=False)] = None,
    wait: Annotated[float, typer.Option(help="Wait up to this many seconds for the worker's verified result "
                                             "(0: just send the request).", min=0)] = 120.0,
    lift: Annotated[bool, typer.Option("--lift", help="Instead: lift the subject's tombstone, so that its future "
                                                      "events are processed again. Deletes nothing.")] = False,
    config: ConfigOpt = None,
    bootstrap_servers: BootstrapOpt = None,
    memory: MemoryOpt = None,
) -> None:
    """Right to be forgotten: send a deletion request to `privacy.deletion-requests` and wait for the result.

    A running worker deletes every memory of the subject, waits for the store, verifies with list and search,
    leaves a tombstone (a hash of the id, nothing else) so later or replayed events of the subject are no-ops,
    and publishes the outcome to `privacy.deletion-completed`.
    """
    if account is None and user is None:
        raise typer.BadParameter("give --account, --user, or both (a person within one account)")
    subject = Subject(account_id=account, user_id=user)
    settings = settings_from(config, bootstrap_servers, memory)
    if lift:
        lifted = asyncio.run(lift_tombstones(settings, subject))
        typer.echo(f"lifted {lifted} tombstone(s); running workers process the subject's events again "
                   "within a minute")
        return
    request = DeletionRequest(request_id=request_id or str(uuid.uuid4()), subject=subject,
                              requested_at=datetime.now(UTC))
    completed = asyncio.run(send_request(settings, request, wait))
    if wait == 0:
        typer.echo(f"sent deletion request {request.request_id}")
        return
    if completed is None:
        typer.echo(f"sent deletion request {request.request_id}; no result within {wait:.0f}s (is a worker "
                   f"running? the request waits on {settings.topics.deletion_requests})", err=True)
        raise typer.Exit(2)
    v = completed.verification
    typer.echo(f"request {completed.request_id}: {completed.memories_deleted} memories deleted in "
               f"{completed.accounts_touched} account(s), verified={v.verified} (listed {v.remaining_listed}, "
               f"searched {v.remaining_searched}), attempts {completed.attempts}")
    if not v.verified:
        raise typer.Exit(1)


async def send_request(settings: Settings, request: DeletionRequest, wait: float) -> DeletionCompleted | None:
    """Publish the request; with `wait`, read the completions topic from now on until this request's arrives."""
    from ticket_enricher.consumers.engine.clients import KafkaClients, opened
    from ticket_enricher.consumers.flows.deletions import request_json
    from ticket_enricher.memory.tombstones import subject_hash

    clients = KafkaClients.from_settings(settings)
    async with opened(clients.consumer("forget")) as consumer:
        topic = settings.topics.deletion_completed
        parts = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or
                                                          range(settings.topics.partitions))]
        consumer.assign(parts)
        for tp, end in (await consumer.end_offsets(parts)).items():
            consumer.seek(tp, end)
        async with opened(clients.producer("forget", acks="all", enable_idempotence=True)) as producer:
            s = request.subject
            key = subject_hash("user", s.user_id) if s.user_id else subject_hash("account", str(s.account_id))
            await producer.send_and_wait(settings.topics.deletion_requests, request_json(request),
                                         key=key.encode())
        if wait == 0:
            return None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        while loop.time() < deadline:
            for batch in (await consumer.getmany(timeout_ms=500)).values():
                for record in batch:
                    done = DeletionCompleted.model_validate_json(record.value)
                    if done.request_id == request.request_id:
                        return done
        return None


async def lift_tombstones(settings: Settings, subject: Subject) -> int:
    from ticket_enricher.consumers.lifespan import memory_store
    from ticket_enricher.memory.tombstones import Tombstones, subject_hash

    async with memory_store(settings) as store:
        tombstones = Tombstones(store)
        lifted = 0
        if subject.account_id is not None:
            lifted += await tombstones.lift(subject_hash("account", subject.account_id))
        if subject.user_id is not None:
            lifted += await tombstones.lift(subject_hash("user", subject.user_id))
        return lifted


def export(
    account: Annotated[str, typer.Option(help="The account whose memories to export.", show_default=False)],
    schema: Annotated[Path | None, typer.Option(help="A JSON Schema (object with properties) to shape a "
                                                     "structured export; without it, a raw dump.",
                                                exists=True, dir_okay=False, show_default=False)] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.",
                                                show_default=False)] = None,
    config: ConfigOpt = None,
    memory: MemoryOpt = None,
    model: ModelOpt = None,
) -> None:
    """Export an account's memories: structured by a JSON Schema, or raw as JSON Lines (a DSAR access request).

    With --schema: on Mem0 Platform, Mem0's export endpoint fills the schema (with its model); on the embedded
    store the configured model does (--model, or model.name), or offline a deterministic projection (arrays get
    one item per memory, id fields the account id, summary fields the newest notes, count fields the number
    of memories).
    Without --schema: one JSON object per memory (id, text, entity ids, metadata, categories, times).
    """
    settings = settings_from(config, None, memory, model)
    try:
        shape = json.loads(schema.read_text()) if schema is not None else None
    except json.JSONDecodeError as exc:
        raise typer.BadParameter(f"{schema} is not JSON: {exc}") from exc
    if shape is not None and (not isinstance(shape, dict) or not isinstance(shape.get("properties"), dict)):
        raise typer.BadParameter(f"{schema} must be an object schema with `properties`")
    text = asyncio.run(export_account(settings, account, shape))
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text)
        typer.echo(f"wrote {output}", err=True)


async def export_account(settings: Settings, account: str, schema: dict[str, JsonValue] | None) -> str:
    from ticket_enricher.consumers.lifespan import memory_store
    from ticket_enricher.memory.store import EntityScope, list_all

    by_model = schema is not None and settings.memory.backend != "mem0" and bool(settings.model.name)
    async with memory_store(settings) as store:
        scope = EntityScope(user_id=account).as_filter()
        if schema is not None and not by_model:
            structured = await store.export(schema, filters=scope)
            return json.dumps(structured, indent=2, ensure_ascii=False) + "\n"
        memories = await list_all(store, filters=scope)
        memories.sort(key=lambda m: (m.created_at, m.id))
        if schema is not None:  # the embedded store with a configured model: the model fills the schema
            from ticket_enricher.agents.export import model_export
            from ticket_enricher.agents.factory import build_openai

            model = build_openai(settings)
            try:
                filled = await model_export(model, schema, memories, account)
            finally:
                await model.close()
            return json.dumps(filled, indent=2, ensure_ascii=False) + "\n"
        return "".join(m.model_dump_json(exclude_none=True) + "\n" for m in memories)
