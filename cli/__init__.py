"""The `ticket-enricher` command line."""
