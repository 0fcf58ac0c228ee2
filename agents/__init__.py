"""The agent: a tool-calling loop over tenant-bound memory tools, driven by a model port."""

from ticket_enricher.agents.loop import Agent, AgentOutcome

__all__ = ["Agent", "AgentOutcome"]
