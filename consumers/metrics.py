"""Process-wide Prometheus metrics, served on /metrics by `consumers/operations/endpoints.py` (and read directly by
tests)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

EVENTS_PROCESSED = Counter("ticket_enricher_events_processed", "Ticket events enriched and published", ["planner"])
EVENTS_SKIPPED = Counter("ticket_enricher_events_skipped", "Well-formed events of types not handled", ["type"])
EVENTS_FORGOTTEN = Counter("ticket_enricher_events_forgotten", "Events of a forgotten account or requester, not run")
DELETIONS = Counter("ticket_enricher_deletions", "Deletion requests by outcome (verified, retried)", ["outcome"])
EVENTS_DEAD_LETTERED = Counter("ticket_enricher_events_dead_lettered", "Records sent to the DLQ", ["reason"])
EVENTS_DELAYED = Counter("ticket_enricher_events_delayed", "Records sent to a delay tier", ["tier"])
EVENTS_RETRIED = Counter("ticket_enricher_events_retried", "Delayed records processed again when due", ["tier"])
RATE_LIMITED = Counter("ticket_enricher_rate_limited", "HTTP 429 answers seen", ["source"])
TAGS_CHANGED = Counter("ticket_enricher_tags_changed", "Account tags set or cleared", ["tag", "change"])
MODEL_TOKENS = Counter("ticket_enricher_model_tokens", "Model tokens used", ["planner", "kind"])
MODEL_TOOL_CALLS = Counter("ticket_enricher_model_tool_calls", "Tool calls the model made", ["planner"])
LIMITER_LEVEL = Gauge("ticket_enricher_limiter_level", "Concurrent calls the adaptive limiter allows", ["source"])
IN_FLIGHT = Gauge("ticket_enricher_in_flight", "Records being processed right now", ["topic"])
BUFFERED = Gauge("ticket_enricher_buffered", "Records fetched and not yet done (running or waiting)", ["topic"])
CONSUMER_LAG = Gauge("ticket_enricher_consumer_lag", "Records not yet committed by the group, per partition",
                     ["group", "topic", "partition"])
MODEL_LATENCY = Histogram("ticket_enricher_model_call_seconds", "Model calls and how long they took", ["planner"],
                          buckets=(0.005, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30))
MEMORY_LATENCY = Histogram("ticket_enricher_memory_call_seconds", "Memory-store calls and how long they took",
                           ["operation"], buckets=(0.0005, 0.002, 0.005, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 5))
FOREIGN_PROVENANCE = Counter("ticket_enricher_foreign_provenance",
                             "Records on an input topic carrying the worker's own headers (ignored)", ["topic"])
