"""The agent: a tool-calling loop over tenant-bound memory tools, driven by a model port."""

from agents.loop import Agent, AgentOutcome

__all__ = ["Agent", "AgentOutcome"]
