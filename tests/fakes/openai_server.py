"""A fake OpenAI-compatible API on loopback: `/v1/embeddings` with deterministic concept vectors.

Words map to concepts through a small synonym table, so "unavailable" and "outage" land close together: a
semantic signal that BM25 alone cannot see, which is what the tests need to tell the two apart.
"""

from __future__ import annotations

import hashlib
import math
import re

from tests.fakes.http import BadRequest, FakeServer, Recorded, Reply, body_json

DIMENSIONS = 64
CONCEPTS = {
    "outage": "down", "down": "down", "unavailable": "down", "offline": "down", "unreachable": "down",
    "invoice": "bill", "billing": "bill", "charged": "bill", "charge": "bill", "payment": "bill",
    "cancel": "leave", "leaving": "leave", "competitor": "leave", "switch": "leave",
}


def vector(text: str) -> list[float]:
    v = [0.0] * DIMENSIONS
    for word in re.findall(r"\w+", text.lower()):
        concept = CONCEPTS.get(word, word)
        v[int(hashlib.md5(concept.encode()).hexdigest(), 16) % DIMENSIONS] += 1.0
    norm = math.sqrt(sum(x * x for x in v)) or 1.0
    return [x / norm for x in v]


class FakeOpenAI(FakeServer):
    def __init__(self) -> None:
        super().__init__()
        self.route("POST", "/v1/embeddings", self._embeddings)

    def _embeddings(self, request: Recorded) -> Reply:
        body = body_json(request)
        texts = body.get("input") if isinstance(body, dict) else None
        if isinstance(texts, str):
            texts = [texts]
        if not isinstance(texts, list) or not texts or not body.get("model"):
            raise BadRequest("model and input are required")
        data = [{"object": "embedding", "index": i, "embedding": vector(t)} for i, t in enumerate(texts)]
        return Reply(200, {"object": "list", "data": data, "model": body["model"],
                           "usage": {"prompt_tokens": 1, "total_tokens": 1}})
