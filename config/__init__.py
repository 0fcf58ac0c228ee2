"""One settings model for the whole worker, with its defaults in `defaults.toml` beside it."""

from ticket_enricher.config.settings import Settings, load_settings

__all__ = ["Settings", "load_settings"]
