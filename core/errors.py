"""The error tree. Adapters raise these; one place in `consumers/` maps them to redelivery, DLQ or done.

    EnricherError
    ├── RetryableError            try again later; the message is kept
    │   ├── RateLimited           HTTP 429 (retry_after seconds when the server said)
    │   └── TransientError        5xx, timeouts, connection resets, a locked database
    └── PermanentFailure          retrying cannot help: dead-letter at once
        ├── InvalidEvent          the record is not a valid v1 event (reason names the check)
        └── ForgedProvenance      a delay-tier record's signed provenance does not verify

    ToolArgumentError             the model called a tool wrongly: goes back to the model, never to the consumer
    MemberFailed                  a consumer stopped polling or committing: the process exits so it is restarted
"""

from __future__ import annotations


class EnricherError(Exception):
    """Root of every error the worker raises on purpose."""


class RetryableError(EnricherError):
    """Raised when the same input may succeed later."""


class RateLimited(RetryableError):
    """Raised when a remote service answered 429; `retry_after` is in seconds, None when it did not say."""

    def __init__(self, source: str, retry_after: float | None = None, detail: str = "", *,
                 held_back: bool = False) -> None:
        self.source = source
        self.retry_after = retry_after
        self.held_back = held_back  # refused by our own limiter without calling: not an attempt
        wait = f", retry after {retry_after:.1f}s" if retry_after is not None else ""
        super().__init__(f"{source} rate limited{wait}{': ' + detail if detail else ''}")


class TransientError(RetryableError):
    """Raised for failures that usually pass: 5xx, timeouts, dropped connections, a busy database."""


class PermanentFailure(EnricherError):
    """Raised when retrying cannot help; the message goes to the dead-letter topic with this reason."""

    reason = "permanent"


class InvalidEvent(PermanentFailure):
    """Raised when a record is not a valid v1 ticket event; `reason` is a short machine-readable code."""

    def __init__(self, reason: str, detail: str) -> None:
        self.reason = reason
        self.detail = detail
        super().__init__(f"{reason}: {detail}")


class ForgedProvenance(PermanentFailure):
    """Raised (as a reason) when a delay-tier record's provenance signature is missing or wrong."""

    reason = "forged_provenance"


class ToolArgumentError(EnricherError):
    """Raised when the model calls a tool with arguments it may correct; reported back to the model."""


class MemberFailed(EnricherError):
    """Raised when a consumer's background task died; the member exits instead of holding its partitions."""
