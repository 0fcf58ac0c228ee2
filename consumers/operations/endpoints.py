"""The worker's HTTP endpoints for operators: /metrics, /healthz, /readyz.

Served by the standard library's WSGI server in a daemon thread, with prometheus_client's WSGI app for
/metrics, so a busy event loop never delays a scrape or a probe (and a stuck one still answers /healthz, which
is what liveness means here: the process runs; a member that stopped making progress exits by itself, see
`KeyOrderedConsumer.failed`). Readiness is a snapshot the event loop writes and the thread reads.

FastStream's Kafka Prometheus middleware does not fit: FastStream is not on the worker's runtime path (see
`consumers/engine/ordered.py`), so the counters it would keep are kept in `consumers/metrics.py` instead.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import make_wsgi_app

from ticket_enricher.core.errors import EndpointError

log = logging.getLogger("ticket_enricher.endpoints")


@dataclass(frozen=True)
class Readiness:
    ready: bool
    reason: str


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # scrapes every 15 s are not news
        pass


class Endpoints:
    def __init__(self, host: str, port: int, readiness: Callable[[], Readiness]) -> None:
        self.readiness = readiness
        self._metrics = make_wsgi_app()
        try:
            self._server = make_server(host, port, self._app, server_class=_Server, handler_class=_QuietHandler)
        except OSError as exc:
            raise EndpointError(f"cannot serve the HTTP endpoints on {host}:{port}: {exc.strerror}; choose "
                                "another ops.http_port (--http-port), or 0 for none") from exc
        self.port = self._server.server_port
        self._thread = threading.Thread(target=self._server.serve_forever, name="endpoints", daemon=True)

    def start(self) -> Endpoints:
        self._thread.start()
        log.info("serving /metrics, /healthz and /readyz on port %d", self.port)
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _app(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/metrics":
            body: Iterable[bytes] = self._metrics(environ, start_response)
            return body
        if path == "/healthz":
            return _json(start_response, "200 OK", {"status": "alive"})
        if path == "/readyz":
            state = self.readiness()
            return _json(start_response, "200 OK" if state.ready else "503 Service Unavailable",
                         {"ready": state.ready, "reason": state.reason})
        return _json(start_response, "404 Not Found", {"error": "try /metrics, /healthz or /readyz"})


def _json(start_response: Callable[..., Any], status: str, body: dict[str, object]) -> list[bytes]:
    data = json.dumps(body).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
    return [data]
