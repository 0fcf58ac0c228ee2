"""POSTs to an OpenAI-compatible API with the official SDK's headers, at a fifth of its CPU per call.

The SDK (`openai.AsyncOpenAI`, retries off) stays the authority on what a request carries, through its public
attributes only: `base_url`, `auth_headers` and `default_headers` (auth, `User-Agent`, every `X-Stainless-*`
platform header), plus the two per-request headers it adds itself (`x-stainless-retry-count: 0`: it never
retries here; `x-stainless-read-timeout`). `tests/test_openai_model.py` compares every header with what
`client.chat.completions.create()` sends and fails on any difference. What the SDK no longer does is build all of
that for every call: its per-call machinery (an options model, a request with two URL parses and a header merge,
the transport adapter, a response wrapper) cost ~680 µs of CPU per call against ~190 µs for the bytes over
aiohttp (bench/throughput.py, model-bound rows), and a worker with a model makes several calls per event. The
bytes go over one aiohttp session, the transport the SDK's own `DefaultAioHttpClient` uses, through the proxy the
environment names for the URL (`HTTPS_PROXY`, `NO_PROXY`; read once).

Failures come back in the project's error tree, translated once here: 429 → `RateLimited` with the server's
wait, 5xx, 401/403/408/409, timeouts and dropped connections → `TransientError`, any other status →
`PermanentFailure` with the server's message.
"""

from __future__ import annotations

import urllib.request
from collections.abc import Callable, Mapping
from urllib.parse import urlsplit

import aiohttp
import openai
import orjson

from ticket_enricher.core.errors import PermanentFailure, RateLimited, TransientError
from ticket_enricher.core.ratelimit import retry_after_seconds


class OpenAIWire:
    """JSON POSTs with the headers `client` would send; closes `client` and its own session on `close()`."""

    def __init__(self, client: openai.AsyncOpenAI, *, concurrency: int = 64,
                 observe: Callable[[Mapping[str, str]], None] | None = None) -> None:
        self.client = client
        self._observe = observe
        self._concurrency = max(1, concurrency)
        self._session: aiohttp.ClientSession | None = None
        timeout = client.timeout if isinstance(client.timeout, int | float) else 600.0
        self._timeout = aiohttp.ClientTimeout(total=None, connect=timeout, sock_connect=timeout,
                                              sock_read=timeout)
        headers = {**client.auth_headers, **client.default_headers}
        self.headers = {k: v for k, v in headers.items() if isinstance(v, str)}  # an `Omit` drops a header
        self.headers |= {"x-stainless-retry-count": "0", "x-stainless-read-timeout": str(timeout)}
        self._base = str(client.base_url).rstrip("/")
        self._proxies: dict[str, str | None] = {}

    def url(self, path: str) -> str:
        return f"{self._base}/{path.lstrip('/')}"

    def _session_now(self) -> aiohttp.ClientSession:
        if self._session is None:  # made on first use, inside the running loop, as aiohttp requires
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=2 * self._concurrency, limit_per_host=2 * self._concurrency),
                timeout=self._timeout, auto_decompress=True, skip_auto_headers=("User-Agent",))
        return self._session

    async def post(self, path: str, body: bytes) -> bytes:
        """The answer's bytes for a 2xx; otherwise the failure as the error tree names it."""
        url = self.url(path)
        if url not in self._proxies:
            self._proxies[url] = proxy_for(url)
        try:
            async with self._session_now().post(url, data=body, headers=self.headers,
                                                proxy=self._proxies[url]) as response:
                content = await response.read()
                status, answer_headers = response.status, response.headers
        except TimeoutError as exc:
            raise TransientError("model: APITimeoutError (no answer in time)") from exc
        except (aiohttp.ClientError, OSError) as exc:
            raise TransientError(f"model: APIConnectionError ({type(exc).__name__})") from exc
        if self._observe is not None:
            self._observe(answer_headers)
        if not 200 <= status < 300:
            raise status_error(status, answer_headers, content)
        return content

    async def close(self) -> None:
        try:
            if self._session is not None:
                await self._session.close()
        finally:
            await self.client.close()

    def is_closed(self) -> bool:
        return self.client.is_closed() and (self._session is None or self._session.closed)


def status_error(status: int, headers: Mapping[str, str], content: bytes) -> Exception:
    """What a non-2xx answer means: a wait (429), worth another try (5xx, and 401/403/408/409, which proxies and
    key rotation answer for a while), or a request the server will never accept."""
    message = _message(content)
    if status == 429:
        return RateLimited("model", retry_after_seconds(headers), f"HTTP 429: {message}")
    if status >= 500 or status in (401, 403, 408, 409):
        return TransientError(f"model: HTTP {status}")
    return PermanentFailure(f"model: HTTP {status}: {message}")


def _message(content: bytes) -> str:
    """The server's own words: OpenAI's `{"error": {"message": ...}}`, else the start of the body."""
    try:
        answer = orjson.loads(content)
    except orjson.JSONDecodeError:
        return content[:200].decode("utf-8", "replace")
    error = answer.get("error") if isinstance(answer, dict) else None
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        return str(error["message"])[:200]
    if isinstance(error, str):
        return error[:200]
    return content[:200].decode("utf-8", "replace")


def proxy_for(url: str) -> str | None:
    """The proxy the environment names for `url` (`HTTP(S)_PROXY`, `ALL_PROXY`, `NO_PROXY`), as httpx reads it."""
    parts = urlsplit(url)
    bypass = urllib.request.proxy_bypass_environment  # type: ignore[attr-defined]  # undocumented: not in typeshed
    if not parts.hostname or bypass(parts.hostname):
        return None
    proxies = urllib.request.getproxies_environment()
    return proxies.get(parts.scheme) or proxies.get("all")
