"""The fake OpenAI-compatible server from ticket_enricher.testing, served by asyncio in a process of its own.

The tests' fake answers from a thread per connection; at 64 concurrent 200 ms calls its threads' GIL hand-offs
alone held it to ~250 of the 320 calls/s asked for, which would have measured the fake instead of the worker.
Here the same routes (`FakeOpenAI._dispatch`) run on an event loop and the latency is an `asyncio.sleep`.
Prints its URL on stdout, then serves until SIGTERM.

Run: `.venv/bin/python -m bench.fake_llm --latency 0.2`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, urlsplit

from ticket_enricher.testing.http import FakeServer, Recorded
from ticket_enricher.testing.openai_server import FakeOpenAI, text_turn, tool_turn


def search_then_note(body: dict[str, Any]) -> dict[str, Any]:
    """Two model calls per event: search the account's notes and add one (one turn), then the summary."""
    if any(m["role"] == "assistant" for m in body["messages"]):
        return text_turn("Noted.")
    return tool_turn(
        ("search_memories", {"query": "outage", "filters": {"metadata": {"kind": "ticket_note"}}}),
        ("add_memory", {"text": "Customer reports the dashboard is down", "categories": ["outage"],
                        "signals": ["outage"]}),
    )


async def serve(fake: FakeServer, host: str = "127.0.0.1") -> asyncio.Server:
    """HTTP/1.1 with keep-alive, enough of it for the OpenAI SDK: Content-Length bodies, no chunking."""

    async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while line := await reader.readline():
                method, target, _ = line.decode("latin-1").split(" ", 2)
                headers: dict[str, str] = {}
                while (raw := await reader.readline()) not in (b"\r\n", b"\n", b""):
                    name, _, value = raw.decode("latin-1").partition(":")
                    headers[name.strip()] = value.strip()
                length = int(next((v for k, v in headers.items() if k.lower() == "content-length"), "0"))
                body = await reader.readexactly(length) if length else b""
                url = urlsplit(target)
                reply = fake._dispatch(Recorded(method, url.path, parse_qs(url.query), headers, body))
                if reply.delay_seconds:
                    await asyncio.sleep(reply.delay_seconds)
                payload = b"" if reply.body is None else json.dumps(reply.body).encode()
                head = [f"HTTP/1.1 {reply.status} {HTTPStatus(reply.status).phrase}",
                        "Content-Type: application/json", f"Content-Length: {len(payload)}",
                        *(f"{k}: {v}" for k, v in reply.headers.items())]
                writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + payload)
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, ValueError):
            pass
        finally:
            writer.close()

    return await asyncio.start_server(connection, host, 0, backlog=1024)


async def main(latency: float) -> None:
    fake = FakeOpenAI()  # its threaded server is never started; only its routes are used
    fake.script = search_then_note
    fake.latency_seconds = latency
    fake.keep_requests = False
    server = await serve(fake)
    host, port = server.sockets[0].getsockname()[:2]
    print(f"http://{host}:{port}", flush=True)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    async with server:
        await stop.wait()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--latency", type=float, default=0.2, help="seconds per chat completion")
    asyncio.run(main(parser.parse_args().latency))
