"""How long a server asked us to wait, read from the headers of a 429 (or any) response.

Order: `Retry-After` (seconds or an HTTP date), OpenAI's `retry-after-ms`, IETF `ratelimit-reset` (seconds),
`X-RateLimit-Reset` (seconds, or an epoch timestamp when it is larger than a year), then OpenAI's
`x-ratelimit-reset-requests` / `-tokens` (durations such as `1s`, `6m0s`, `20ms`).
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Mapping
from email.utils import parsedate_to_datetime

_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)")
_YEAR = 365 * 86400


def _seconds(value: str, now: float) -> float | None:
    try:
        number = float(value)
    except ValueError:
        return None
    return number - now if number > _YEAR else number


def _duration(value: str) -> float | None:
    parts = _DURATION.findall(value.strip())
    if not parts or "".join(n + u for n, u in parts) != value.strip().replace(" ", ""):
        return None
    scale = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
    return sum(float(n) * scale[u] for n, u in parts)


def retry_after_seconds(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds to wait (≥ 0), or None when the headers do not say."""
    now = time.time() if now is None else now
    h = {k.lower(): v for k, v in headers.items()}
    candidates: list[float | None] = []
    if "retry-after" in h:
        value = h["retry-after"].strip()
        wait = _seconds(value, now)
        if wait is None:
            try:
                wait = parsedate_to_datetime(value).timestamp() - now
            except (TypeError, ValueError):
                wait = None
        candidates.append(wait)
    if "retry-after-ms" in h:
        with contextlib.suppress(ValueError):
            candidates.append(float(h["retry-after-ms"]) / 1000)
    for name in ("ratelimit-reset", "x-ratelimit-reset"):
        if name in h:
            candidates.append(_seconds(h[name].split(",")[0].strip(), now))
    for name in ("x-ratelimit-reset-requests", "x-ratelimit-reset-tokens"):
        if name in h:
            candidates.append(_duration(h[name]))
    for wait in candidates:
        if wait is not None:
            return max(0.0, wait)
    return None


def remaining_fraction(headers: Mapping[str, str]) -> float | None:
    """`ratelimit-remaining / ratelimit-limit` (IETF or X- form) when both are given: how close to the limit."""
    h = {k.lower(): v for k, v in headers.items()}
    for prefix in ("ratelimit-", "x-ratelimit-"):
        try:
            remaining = float(h[prefix + "remaining"].split(",")[0])
            limit = float(h[prefix + "limit"].split(",")[0].split(";")[0])
        except (KeyError, ValueError):
            continue
        if limit > 0:
            return max(0.0, min(1.0, remaining / limit))
    return None
