"""A real HTTP server on loopback for fakes of paid services: routes, a request log, and injected 429s."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

from ticket_enricher.core.errors import BadRequest


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes


@dataclass
class Reply:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay_seconds: float = 0.0  # answer this much later, without holding up other requests


Route = Callable[..., Reply]
_HOST = "127.0.0.1"  # loopback only


class FakeServer:
    """Subclasses register routes as (METHOD, regex) → handler(request, *groups) -> Reply."""

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.keep_requests = True  # False for long benchmark runs: the log would only grow
        self.routes: list[tuple[str, re.Pattern[str], Route]] = []
        self._failures: list[Reply] = []
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                url = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                request = Recorded(self.command, url.path, parse_qs(url.query), dict(self.headers.items()),
                                   self.rfile.read(length) if length else b"")
                reply = fake._dispatch(request)
                if reply.delay_seconds:
                    time.sleep(reply.delay_seconds)
                payload = b"" if reply.body is None else json.dumps(reply.body).encode()
                try:
                    self.send_response(reply.status)
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True  # the client went away (killed, or timed out): nothing to answer

            do_GET = do_POST = do_PUT = do_DELETE = _serve

            def log_message(self, *args: object) -> None:
                pass

        self._httpd = _Server((_HOST, 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02},
                                        daemon=True)

    @property
    def url(self) -> str:
        return f"http://{_HOST}:{self._httpd.server_port}"

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def route(self, method: str, pattern: str, handler: Route) -> None:
        self.routes.append((method, re.compile(f"^{pattern}$"), handler))

    def fail_next(self, times: int, status: int = 429, headers: dict[str, str] | None = None,
                  body: Any = None) -> None:
        """Answer the next `times` requests with `status` (default 429) and these headers."""
        with self._lock:
            self._failures.extend(Reply(status, body or {"error": "rate limited"}, headers or {}) for _ in range(times))

    def clear_failures(self) -> int:
        """Serve normally from now on; returns how many failures were still queued."""
        with self._lock:
            left, self._failures = len(self._failures), []
        return left

    def _dispatch(self, request: Recorded) -> Reply:
        with self._lock:
            if self.keep_requests:
                self.requests.append(request)
            if self._failures:
                return self._failures.pop(0)
            for method, pattern, handler in self.routes:
                match = pattern.match(request.path)
                if method == request.method and match:
                    try:
                        return handler(request, *match.groups())
                    except BadRequest as exc:
                        return Reply(400, {"error": str(exc)})
            return Reply(404, {"error": f"no route for {request.method} {request.path}"})


class _Server(ThreadingHTTPServer):
    request_queue_size = 1024  # hundreds of clients may connect at once (the default backlog is 5)


def body_json(request: Recorded) -> Any:
    try:
        return json.loads(request.body or b"null")
    except json.JSONDecodeError as exc:
        raise BadRequest(f"body is not JSON: {exc}") from exc
