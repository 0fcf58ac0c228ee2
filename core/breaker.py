"""A circuit breaker for a remote dependency that fails the same way call after call (the model server down, a
gateway answering 5xx, every connection refused).

Closed, calls go through and consecutive transient failures are counted; a success resets the count. At
`failures` in a row it opens: no call goes out, and callers are told how long to hold their work
(`ModelUnavailable`, never an attempt of the event). After `probe_seconds` one call is let through as the probe:
its success closes the breaker, its failure opens it again for twice as long (up to `max_probe_seconds`).
The failure that opens the breaker and a failed probe are reported as held too, so an outage never spends an
event's attempts; the failures before it go to the delay tiers as usual.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from ticket_enricher.core.errors import ModelUnavailable


@dataclass
class Breaker:
    source: str
    failures: int = 5
    probe_seconds: float = 5.0
    max_probe_seconds: float = 60.0
    clock: Callable[[], float] = time.monotonic
    on_change: Callable[[bool, str], None] | None = None  # told (open, reason) whenever it opens or closes
    consecutive: int = 0
    reason: str = ""
    _open_until: float | None = None
    _wait: float = 0.0
    _probing: bool = False
    opened: int = field(default=0)  # how many times it opened

    @property
    def is_open(self) -> bool:
        return self._open_until is not None

    def retry_in(self) -> float:
        """Seconds until a call may go out again (0 when closed or when the probe is due)."""
        if self._open_until is None:
            return 0.0
        return max(0.0, self._open_until - self.clock())

    def admit(self) -> None:
        """Before a call: raises `ModelUnavailable` while open, except for the one probe when it is due."""
        if self._open_until is None:
            return
        wait = self._open_until - self.clock()
        if wait > 0 or self._probing:
            raise ModelUnavailable(self.source, max(wait, 0.5), self.reason)
        self._probing = True

    def succeeded(self) -> None:
        was_open = self._open_until is not None
        self.consecutive, self._probing, self._open_until, self._wait = 0, False, None, 0.0
        if was_open and self.on_change is not None:
            self.on_change(False, "")

    def failed(self, error: BaseException) -> ModelUnavailable | None:
        """A transient failure of an admitted call; returns the held error to raise instead when this failure
        opened the breaker or was the probe's."""
        self.consecutive += 1
        self.reason = f"{self.consecutive} calls in a row failed, the last with {error}"[:300]
        if not self._probing and self.consecutive < self.failures:
            return None
        self._wait = min(self.max_probe_seconds, self._wait * 2 if self._probing else self.probe_seconds)
        first = self._open_until is None
        self._open_until, self._probing = self.clock() + self._wait, False
        if first:
            self.opened += 1
            if self.on_change is not None:
                self.on_change(True, self.reason)
        return ModelUnavailable(self.source, self._wait, self.reason)

    def abandoned(self) -> None:
        """An admitted call ended without a verdict on the server (a 429, a bad answer, a cancel): a probe
        that ends so leaves the next probe due at once."""
        self._probing = False
