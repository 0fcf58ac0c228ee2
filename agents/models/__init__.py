"""The model port: one request in (instructions, the untrusted ticket, the transcript, tool specs), one turn out.

Adapters (the offline rules model; an OpenAI-compatible API) implement `Model`; the loop never knows which.
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
    input_tokens: int = 0
    output_tokens: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
        )


class ModelTurn(BaseModel):
    """Either tool calls to run, or (no calls) the final answer in `text`."""

    text: str | None = None
    tool_calls: list[ToolCall] = Field(default_factory=list)
    usage: Usage = Field(default_factory=Usage)


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
