"""Process-wide Prometheus counters (exposed over HTTP by the operations work; read directly by tests)."""

from __future__ import annotations

from prometheus_client import Counter

EVENTS_PROCESSED = Counter("ticket_enricher_events_processed", "Ticket events enriched and published", ["planner"])
EVENTS_SKIPPED = Counter("ticket_enricher_events_skipped", "Well-formed events of types not handled", ["type"])
EVENTS_DEAD_LETTERED = Counter("ticket_enricher_events_dead_lettered", "Records sent to the DLQ", ["reason"])
EVENTS_REDELIVERED = Counter("ticket_enricher_events_redelivered", "Records left uncommitted for redelivery",
                             ["error"])
TAGS_CHANGED = Counter("ticket_enricher_tags_changed", "Account tags set or cleared", ["tag", "change"])
MODEL_TOKENS = Counter("ticket_enricher_model_tokens", "Model tokens used", ["planner", "kind"])
MODEL_TOOL_CALLS = Counter("ticket_enricher_model_tool_calls", "Tool calls the model made", ["planner"])
