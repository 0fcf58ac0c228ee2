"""How long a 429 asks us to wait, from every header form the LLM and memory APIs use."""

from __future__ import annotations

from email.utils import formatdate

import pytest

from ticket_enricher.core.ratelimit import remaining_fraction, retry_after_seconds

NOW = 1_800_000_000.0


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Retry-After": "7"}, 7.0),
        ({"retry-after": "0.5"}, 0.5),
        ({"Retry-After": formatdate(NOW + 30, usegmt=True)}, 30.0),
        ({"retry-after-ms": "1500"}, 1.5),
        ({"RateLimit-Reset": "12"}, 12.0),
        ({"X-RateLimit-Reset": str(int(NOW + 42))}, 42.0),
        ({"X-RateLimit-Reset": "9"}, 9.0),
        ({"x-ratelimit-reset-requests": "6m0s"}, 360.0),
        ({"x-ratelimit-reset-tokens": "20ms"}, 0.02),
        ({"x-ratelimit-reset-requests": "1.5s"}, 1.5),
        ({"Retry-After": formatdate(NOW - 30, usegmt=True)}, 0.0),
        ({"Retry-After": "soon", "RateLimit-Reset": "3"}, 3.0),
        ({}, None),
        ({"Retry-After": "soon"}, None),
    ],
)
def test_retry_after(headers: dict[str, str], expected: float | None) -> None:
    got = retry_after_seconds(headers, now=NOW)
    assert got == pytest.approx(expected) if expected is not None else got is None


def test_remaining_fraction() -> None:
    assert remaining_fraction({"RateLimit-Remaining": "5", "RateLimit-Limit": "100"}) == 0.05
    assert remaining_fraction({"x-ratelimit-remaining": "0", "x-ratelimit-limit": "60"}) == 0.0
    assert remaining_fraction({"RateLimit-Remaining": "5"}) is None
