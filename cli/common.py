"""Options shared by several commands, and the one place the CLI turns flags into `Settings`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from ticket_enricher.config.settings import ENV_PREFIX, Settings, load_settings
from ticket_enricher.memory.dsn import is_dsn, redact

ConfigOpt = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="A TOML file overriding config/defaults.toml (same tables).",
                 exists=True, dir_okay=False),
]
BootstrapOpt = Annotated[
    str | None,
    typer.Option("--bootstrap-servers", "-b", help="Kafka bootstrap servers, HOST:PORT[,HOST:PORT].",
                 envvar=f"{ENV_PREFIX}KAFKA__BOOTSTRAP_SERVERS", show_envvar=True),
]
MemoryOpt = Annotated[
    str | None,
    typer.Option("--memory", "-m", help="`mem0` for Mem0 Platform (key from MEM0_API_KEY), "
                                        "postgresql://USER@HOST:PORT/DB for PostgreSQL (password from PGPASSWORD), "
                                        "or the path of the embedded SQLite store (settings: memory.backend, "
                                        "memory.dsn, memory.path).",
                 show_default=False),
]


ModelOpt = Annotated[
    str | None,
    typer.Option("--model", help="An OpenAI-compatible model name (key from OPENAI_API_KEY, endpoint from "
                                 "OPENAI_BASE_URL); without it the offline rules model runs (setting: model.name).",
                 show_default=False),
]


def settings_from(config: Path | None, bootstrap: str | None = None, memory: str | None = None,
                  model: str | None = None) -> Settings:
    overrides: dict[str, object] = {}
    if model:
        overrides["model"] = {"name": model}
    if bootstrap:
        overrides["kafka"] = {"bootstrap_servers": bootstrap}
    if memory == "mem0":
        overrides["memory"] = {"backend": "mem0"}
    elif memory and is_dsn(memory):
        overrides["memory"] = {"backend": "postgres", "dsn": memory}
    elif memory:
        overrides["memory"] = {"backend": "sqlite", "path": Path(memory)}
    try:
        return load_settings(config, **overrides)
    except ValidationError as exc:
        # the fields and problems, never the input values: a DSN may hold a password
        problems = [f"  {'.'.join(str(p) for p in e['loc']) or 'settings'}: {e['msg']}"
                    for e in exc.errors(include_url=False, include_input=False)]
        raise typer.BadParameter(redact("invalid settings:\n" + "\n".join(problems))) from None
