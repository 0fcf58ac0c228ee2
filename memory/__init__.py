"""Long-term memory: the `MemoryStore` port and its adapters (embedded SQLite by default)."""

from ticket_enricher.memory.store import AddResult, Memory, MemoryStore, ScoredMemory

__all__ = ["AddResult", "Memory", "MemoryStore", "ScoredMemory"]
