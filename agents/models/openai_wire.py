"""POSTs to an OpenAI-compatible API as the official SDK sends them, at a fifth of its CPU per call.

The SDK (`openai.AsyncOpenAI`, retries off) stays the authority on the wire: it builds each endpoint's request
once (URL, auth, `User-Agent`, every `X-Stainless-*` header, the read timeout it announces) and turns every
error status into its own exception class, with the response attached, exactly as `client.post()` does. What
it no longer does is rebuild all of that for every call: its per-call machinery (an options model, an httpx
request with two URL parses and a header merge, the transport adapter, a response wrapper) cost ~680 µs of CPU
per call against ~190 µs for the bytes over aiohttp (bench/throughput.py, model-bound rows), and a worker
with a model makes several calls per event. The bytes go over one aiohttp session, the transport the SDK's
own `DefaultAioHttpClient` uses, through the proxy the environment names for the URL (`HTTPS_PROXY`, `NO_PROXY`;
read once per endpoint: aiohttp's `trust_env` looks it up in a thread for every request).

The template is built through the SDK's request-building hooks (`_prepare_options`, `_build_request`,
`_prepare_request`): private names of the pinned SDK, so `tests/test_openai_model.py` compares, on a fake
server, every header this sends with those `client.post()` sends and fails on any difference.
"""

from __future__ import annotations

import asyncio
import urllib.request
from collections.abc import Callable, Mapping
from urllib.parse import urlsplit

import aiohttp
import httpx2
import openai
from openai._models import FinalRequestOptions

# Headers aiohttp writes itself for each request (and must: it knows the body and the connection).
_TRANSPORT_HEADERS = {"host", "content-length", "transfer-encoding"}


class OpenAIWire:
    """JSON POSTs on the requests `client` builds; closes `client` and its own session on `close()`."""

    def __init__(self, client: openai.AsyncOpenAI, *, concurrency: int = 64,
                 observe: Callable[[Mapping[str, str]], None] | None = None) -> None:
        self.client = client
        self._observe = observe
        self._concurrency = max(1, concurrency)
        self._session: aiohttp.ClientSession | None = None
        self._templates: dict[str, tuple[httpx2.Request, str, dict[str, str], str | None]] = {}
        timeout = client.timeout if isinstance(client.timeout, int | float) else 600.0
        self._timeout = aiohttp.ClientTimeout(total=None, connect=timeout, sock_connect=timeout,
                                              sock_read=timeout)

    async def _template(self, path: str) -> tuple[httpx2.Request, str, dict[str, str], str | None]:
        found = self._templates.get(path)
        if found is None:
            options = FinalRequestOptions.construct(method="post", url=path, content=b"",
                                                    headers={"Content-Type": "application/json"})
            options = await self.client._prepare_options(options)
            request = self.client._build_request(options)
            await self.client._prepare_request(request)
            headers = {k: v for k, v in request.headers.items() if k.lower() not in _TRANSPORT_HEADERS}
            found = self._templates[path] = (request, str(request.url), headers, proxy_for(str(request.url)))
        return found

    def _session_now(self) -> aiohttp.ClientSession:
        if self._session is None:  # made on first use, inside the running loop, as aiohttp requires
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=2 * self._concurrency, limit_per_host=2 * self._concurrency),
                timeout=self._timeout, auto_decompress=True, skip_auto_headers=("User-Agent",))
        return self._session

    async def post(self, path: str, body: bytes) -> bytes:
        """The answer's bytes for a 2xx; otherwise the SDK's own error (`openai.RateLimitError`, ...)."""
        request, url, headers, proxy = await self._template(path)
        try:
            async with self._session_now().post(url, data=body, headers=headers, proxy=proxy) as response:
                content = await response.read()
                status, answer_headers = response.status, response.headers
        except (TimeoutError, asyncio.TimeoutError) as exc:
            raise openai.APITimeoutError(request=request) from exc
        except (aiohttp.ClientError, OSError) as exc:
            raise openai.APIConnectionError(request=request) from exc
        if self._observe is not None:
            self._observe(answer_headers)
        if not 200 <= status < 300:
            raise self.client._make_status_error_from_response(
                httpx2.Response(status, headers=list(answer_headers.items()), content=content, request=request))
        return content

    async def close(self) -> None:
        try:
            if self._session is not None:
                await self._session.close()
        finally:
            await self.client.close()

    def is_closed(self) -> bool:
        return self.client.is_closed() and (self._session is None or self._session.closed)


def proxy_for(url: str) -> str | None:
    """The proxy the environment names for `url` (`HTTP(S)_PROXY`, `ALL_PROXY`, `NO_PROXY`), as httpx reads it."""
    parts = urlsplit(url)
    if not parts.hostname or urllib.request.proxy_bypass_environment(parts.hostname):
        return None
    proxies = urllib.request.getproxies_environment()
    return proxies.get(parts.scheme) or proxies.get("all")
