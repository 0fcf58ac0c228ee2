"""Check recorded requests against Mem0's published OpenAPI spec, kept byte for byte in `testing/contracts/` with its
provenance (`mem0-platform-openapi.NOTE.md`), so the check runs on a fresh clone."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from ticket_enricher.testing.http import Recorded

SPEC = Path(__file__).resolve().parent / "contracts" / "mem0-platform-openapi.json"


@cache
def _api() -> Any:
    from openapi_core import OpenAPI

    return OpenAPI.from_dict(json.loads(SPEC.read_text()))


@dataclass
class _Request:
    host_url: str
    path: str
    method: str
    parameters: Any
    content_type: str
    body: bytes | None

    @property
    def full_url_pattern(self) -> str:
        return self.host_url + self.path


def violations(requests: list[Recorded]) -> list[str]:
    """One line per request the spec does not allow; empty when all conform."""
    api = _api()
    from openapi_core.datatypes import RequestParameters
    from werkzeug.datastructures import Headers, ImmutableMultiDict

    found = []
    for r in requests:
        query = ImmutableMultiDict([(k, v) for k, values in r.query.items() for v in values])
        request = _Request(
            "https://api.mem0.ai", r.path, r.method.lower(),
            RequestParameters(query=query, header=Headers(r.headers), cookie=ImmutableMultiDict()),
            r.headers.get("Content-Type", "application/json").split(";")[0], r.body or None,
        )
        try:
            api.validate_request(request)
        except Exception as exc:  # every kind of violation is reported the same way
            cause = getattr(exc, "__cause__", None)
            found.append(f"{r.method} {r.path}: {type(exc).__name__}: {exc} {cause or ''}"[:500])
        if r.headers.get("Authorization", "").split(" ")[0] != "Token":
            found.append(f"{r.method} {r.path}: Authorization is not `Token <key>`")
    return found
