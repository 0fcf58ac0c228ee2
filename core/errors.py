"""The error tree: every exception the project raises on purpose. Adapters raise only these; one module
(`consumers.flows.policy`) maps a failure to a delay tier, the dead-letter topic or a retry in place.

    EnricherError
    ├── RetryableError              try again later; the message is kept (a delay tier)
    │   ├── RateLimited             HTTP 429 (retry_after seconds when the server said)
    │   │   └── OverBudget          the model budget has no room for the call yet (`core.budget`): not an attempt
    │   ├── TransientError          5xx, timeouts, dropped connections, a locked or restarting database
    │   │   └── NotVerified         a delete that list or search does not confirm yet
    │   └── Held                    hold the record in place: no attempt, no copy; the engine runs it again
    │       └── ModelUnavailable    the model's breaker is open
    ├── PermanentFailure            retrying cannot help: dead-letter at once, with `reason`
    │   ├── InvalidEvent            the record is not a valid event of its contract (reason names the check)
    │   ├── ForgedProvenance        a delay-tier record's signed provenance does not verify
    │   ├── ModelMisbehaved         bad tool arguments again and again, an answer cut at its token bound
    │   ├── InvalidFilter           a filter outside Mem0's grammar (checked before any I/O)
    │   ├── InvalidRequest          a memory operation the port does not allow (page size, empty query, ...)
    │   └── NotFound                a memory or event id the store does not hold
    ├── ConfigurationError          the settings or the environment cannot work: stop at start with a clear line
    │   ├── MissingTopics           topics the worker needs do not exist
    │   ├── MemoryConfigError       memory settings that cannot work (Mem0 without a key, an old schema)
    │   ├── KafkaSecurityError      Kafka security settings that cannot work (no password, unreadable file)
    │   ├── LiveGroup               a replay asked to run in a live worker group
    │   ├── EndpointError           the HTTP endpoints cannot listen
    │   ├── LocalServerError        a local broker or database could not be resolved, started or stopped
    │   │   ├── BrokerError         the local Kafka broker (`localkafka`): no Java or Maven, jars, format, start
    │   │   ├── PostgresError       the local PostgreSQL (`localpostgres`): no server binaries, initdb, start, stop
    │   │   └── ModelServerError    the local model server could not be fetched, built, verified or started
    │   └── EvalInputError          the labelled events or labels given to `eval` cannot be evaluated
    ├── UnknownEventType            not an error: a well-formed event of a type this worker does not handle
    ├── EngineMisuse                the Kafka engine was used against its contract (a bug, never a record's fault)
    ├── ToolArgumentError           the model called a tool wrongly: goes back to the model, never to the consumer
    ├── MemberFailed                a consumer stopped polling or committing: the process exits to be restarted
    └── BadRequest                  a route of a fake service (`testing`) refuses a request: the fake answers 400
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


class OverBudget(RateLimited):
    """Raised before a model call that the shared budget (`core.budget`) has no room for: no call was made, so it
    is not an attempt (`held_back`); the event waits in the delay tier due when the budget allows it. `reason`:
    group_minute, group_day, account_day, replay_minute, or account_order (an earlier event of the account
    waits)."""

    def __init__(self, reason: str, retry_after: float, subject: str) -> None:
        self.reason = reason
        self.subject = subject
        super().__init__("budget", retry_after, f"{reason.replace('_', ' ')} budget of {subject}"
                         if reason != "account_order" else f"an earlier event of {subject} waits for budget",
                         held_back=True)


class TransientError(RetryableError):
    """Raised for failures that usually pass: 5xx, timeouts, dropped connections, a busy database."""


class Held(RetryableError):
    """Raised to have the engine hold a record in place for `retry_after` seconds and run it again: not an
    attempt, no delay-tier copy, no dead letter (`consumers.flows.policy` decides so)."""

    retry_after: float


class ModelUnavailable(Held):
    """Raised instead of calling a dependency whose breaker is open (`core.breaker`), and for the failure that
    opened it: the record waits in place (partitions paused) for `retry_after` seconds, no attempt is counted
    and nothing goes to a delay tier or the dead-letter topic."""

    def __init__(self, source: str, retry_after: float, detail: str = "") -> None:
        self.source = source
        self.retry_after = retry_after
        super().__init__(f"{source} unavailable, probing again in {retry_after:.1f}s{': ' + detail if detail else ''}")


class NotVerified(TransientError):
    """Raised when list or search still return memories of a subject after its delete settled."""


class PermanentFailure(EnricherError):
    """Raised when retrying cannot help; the message goes to the dead-letter topic with this reason."""

    reason = "permanent"


class InvalidEvent(PermanentFailure):
    """Raised when a record is not a valid event of its contract; `reason` is a short machine-readable code."""

    def __init__(self, reason: str, detail: str) -> None:
        self.reason = reason
        self.detail = detail
        super().__init__(f"{reason}: {detail}")


class ForgedProvenance(PermanentFailure):
    """Raised (as a reason) when a delay-tier record's provenance signature is missing or wrong."""

    reason = "forged_provenance"


class ModelMisbehaved(PermanentFailure):
    """Raised when the model keeps calling tools with bad arguments, its answer ran past `model.max_output_tokens`
    or is malformed; asking again the same way will not help."""

    reason = "model_misbehaved"


class InvalidFilter(PermanentFailure, ValueError):
    """Raised before any I/O when a filter does not follow the grammar; the message names the place and problem."""

    reason = "invalid_filter"

    def __init__(self, where: str, problem: str) -> None:
        self.where = where
        self.problem = problem
        super().__init__(f"invalid filter at {where}: {problem}")


class InvalidRequest(PermanentFailure, ValueError):
    """Raised when a memory operation asks what the port does not allow (a page out of range, an empty query)."""

    reason = "invalid_request"


class NotFound(PermanentFailure, LookupError):
    """Raised when a memory or event id is not in the store."""

    reason = "not_found"


class ConfigurationError(EnricherError):
    """Raised at start when the settings or the environment cannot work; the message says what to change."""


class MissingTopics(ConfigurationError):
    """Raised at start-up when topics the worker uses do not exist (the broker does not auto-create them)."""


class MemoryConfigError(ConfigurationError):
    """Raised at start-up when the memory settings cannot work (Mem0 without a key, a store of another schema)."""


class KafkaSecurityError(ConfigurationError):
    """Raised when the security settings cannot work (a SASL protocol without a password, an unreadable file)."""


class LiveGroup(ConfigurationError, ValueError):
    """Raised when a replay is asked to use a consumer group of the live worker."""


class EndpointError(ConfigurationError):
    """Raised when the endpoints cannot listen (the port is taken)."""


class LocalServerError(ConfigurationError, RuntimeError):
    """Raised when a local broker or database could not be resolved, formatted, started or stopped."""


class BrokerError(LocalServerError):
    """Raised when the local KRaft broker (`localkafka`) could not be resolved, formatted, started or stopped."""


class PostgresError(LocalServerError):
    """Raised when the local PostgreSQL (`localpostgres`) could not be found, initialised, started or stopped."""


class ModelServerError(LocalServerError):
    """Raised when the local model server (llama.cpp's, from PyPI) could not be built, its model file could not
    be fetched or did not verify, or the server died or did not answer in time; the message ends with the tail of
    pip's or the server's log."""


class EvalInputError(ConfigurationError, ValueError):
    """Raised when the events or labels file given to `eval` cannot be evaluated (names the column, line or tag)."""


class UnknownEventType(EnricherError):
    """Raised for a well-formed event of a type this worker does not handle: skipped and counted, not an error."""

    def __init__(self, event_type: str) -> None:
        self.event_type = event_type
        super().__init__(event_type)


class EngineMisuse(EnricherError, ValueError):
    """Raised by the Kafka engine when used against its contract: limits that cannot hold (max_in_flight above
    max_buffered), a partition's offsets handed to its tracker out of order."""


class ToolArgumentError(EnricherError):
    """Raised when the model calls a tool with arguments it may correct; reported back to the model."""


class MemberFailed(EnricherError):
    """Raised when a consumer's background task died; the member exits instead of holding its partitions."""


class BadRequest(EnricherError):
    """Raised by a route of a fake service (`ticket_enricher.testing`) to answer 400 with this message; the fake
    catches it, nothing else sees it."""
