"""The model behind the adaptive limiter: every call takes a slot for the event's account (see `core.limiter`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ticket_enricher.agents.models import Model, ModelRequest, ModelTurn
from ticket_enricher.core.limiter import AdaptiveLimiter


class LimitedModel:
    def __init__(self, model: Model, limiter: AdaptiveLimiter,
                 report: Callable[[float], None] | None = None) -> None:
        self.model = model
        self.limiter = limiter
        self.name = model.name
        self._report = report

    async def close(self) -> None:
        await self.model.close()

    async def fill(self, schema: dict[str, Any], instructions: str, content: str) -> dict[str, Any]:
        """A structured export through the model (`agents.export`), in the limiter's shared slot."""
        async with self.limiter.slot("*"):
            return await self.model.fill(schema, instructions, content)  # type: ignore[attr-defined, no-any-return]

    async def respond(self, request: ModelRequest) -> ModelTurn:
        try:
            async with self.limiter.slot(request.ticket.account_id):
                return await self.model.respond(request)
        finally:
            if self._report is not None:
                self._report(self.limiter.limit)
