"""Log set-up for the commands: one line per record with the event's identifiers appended as key=value."""

from __future__ import annotations

import logging

_FIELDS = ("event_id", "account_id", "ticket_id", "partition", "offset")


class _KeyValueFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extras = [f"{f}={getattr(record, f)}" for f in _FIELDS if hasattr(record, f)]
        return f"{line} {' '.join(extras)}" if extras else line


def setup_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(_KeyValueFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("aiokafka", "faststream", "kafka"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
