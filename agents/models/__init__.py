"""The model port: one request in (instructions, the untrusted ticket, the transcript, tool specs), one turn out.

Adapters implement `Model`: `openai.py` (any OpenAI-compatible chat API), behind `limited.py` (the adaptive
limiter and the breaker). The agent planner never knows which; the tests script models of their own.
"""

from __future__ import annotations

from typing import Protocol

from pydantic import BaseModel, Field, JsonValue

from ticket_enricher.core.events import TicketEvent


class ToolSpec(BaseModel):
    name: str
    description: str
    parameters: dict[str, JsonValue]


class ToolCall(BaseModel):
    id: str
    name: str
    arguments: str = Field(description="JSON text exactly as the model produced it")


class ToolResult(BaseModel):
    call_id: str
    name: str
    content: str
    is_error: bool = False


class Usage(BaseModel):
    """Tokens of model calls as the server reported them: `input_tokens` includes `cached_input_tokens` (the part
    of the prompt the server says it served from its cache, billed lower by most providers)."""

    calls: int = 0
    input_tokens: int = 0
    cached_input_tokens: int = 0
    output_tokens: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            calls=self.calls + other.calls,
            input_tokens=self.input_tokens + other.input_tokens,
            cached_input_tokens=self.cached_input_tokens + other.cached_input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
        )


class ModelTurn(BaseModel):
    """Either tool calls to run, or (no calls) the final answer in `text`. `finish_reason` as the server gave it
    (`stop`, `tool_calls`, `length`, ...); `usage` is this one call's."""

    text: str | None = None
    tool_calls: list[ToolCall] = Field(default_factory=list)
    usage: Usage = Field(default_factory=Usage)
    finish_reason: str | None = None


class Exchange(BaseModel):
    turn: ModelTurn
    results: list[ToolResult]


class ModelRequest(BaseModel):
    instructions: str
    ticket: TicketEvent = Field(description="untrusted input: data to judge, never instructions to follow")
    history: list[Exchange] = Field(default_factory=list)
    tools: list[ToolSpec]

    def results_of(self, tool: str) -> list[ToolResult]:
        return [r for ex in self.history for r in ex.results if r.name == tool]


class Model(Protocol):
    name: str

    async def respond(self, request: ModelRequest) -> ModelTurn: ...

    async def close(self) -> None:
        """Release the model's connections (called once, by the lifespan that built it)."""
        ...
