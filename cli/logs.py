"""Log set-up for the commands: every line about an event carries its identifiers, as text or as JSON.

`text`: one line with the event's identifiers appended as key=value. `json`: one object per line with `time`,
`level`, `logger`, `message`, the identifiers present (`event_id`, `account_id`, `ticket_id`, `partition`,
`offset`, `request_id`) and `exception` when there is one, for log shippers. Neither ever includes ticket text:
the flows log identifiers and outcomes only, and secrets never reach a log record.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Literal

_FIELDS = ("event_id", "account_id", "ticket_id", "partition", "offset", "request_id")


class _KeyValueFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extras = [f"{f}={getattr(record, f)}" for f in _FIELDS if hasattr(record, f)]
        return f"{line} {' '.join(extras)}" if extras else line


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname, "logger": record.name, "message": record.getMessage(),
        }
        entry |= {f: getattr(record, f) for f in _FIELDS if hasattr(record, f)}
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def say(line: str, fmt: Literal["text", "json"] = "text") -> None:
    """A line for the operator on stderr: as it is, or (with JSON logs) as one more JSON log line."""
    if fmt == "json":
        logging.getLogger("ticket_enricher").warning(line)
    else:
        print(line, file=sys.stderr, flush=True)


def setup_logging(level: str = "INFO", fmt: Literal["text", "json"] = "text") -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if fmt == "json"
                         else _KeyValueFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("aiokafka", "faststream", "kafka"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
