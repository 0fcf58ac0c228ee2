"""PostgreSQL connection strings (`postgresql://USER[:PASS]@HOST:PORT/DB`): recognise them, and show them
without their password in every message, log line and repr."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

SCHEMES = ("postgresql://", "postgres://")
_USERINFO_PASSWORD = re.compile(r"(://[^:/@\s'\"]*):[^@\s'\"]*@")
_QUERY_PASSWORD = re.compile(r"([?&]password=)[^&\s'\"]*", re.IGNORECASE)


def is_dsn(text: str) -> bool:
    return text.startswith(SCHEMES)


def redact(text: str) -> str:
    """`text` with the password of every URL in it (user info or `password=` parameter) replaced by ***."""
    return _QUERY_PASSWORD.sub(r"\1***", _USERINFO_PASSWORD.sub(r"\1:***@", text))


def has_password(dsn: str) -> bool:
    try:
        parts = urlsplit(dsn)
    except ValueError:
        return False
    return parts.password is not None or bool(_QUERY_PASSWORD.search(dsn))
