"""Optional embeddings for the semantic signal, from any OpenAI-compatible `/v1/embeddings` endpoint.

Absent unless configured; the SDK's own retries are off, a 429 becomes `RateLimited`, and 5xx, timeouts and
dropped connections become `TransientError`, like every other adapter.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from ticket_enricher.core.errors import PermanentFailure, RateLimited, TransientError
from ticket_enricher.core.ratelimit import retry_after_seconds

if TYPE_CHECKING:  # the SDK takes 0.4 s to import: only a store with embeddings configured loads it
    import openai


class Embedder(Protocol):
    model: str

    async def embed(self, texts: list[str]) -> list[list[float]]: ...

    async def close(self) -> None: ...


def embeddings_client(*, base_url: str, api_key: str | None, timeout: float = 10.0) -> openai.AsyncOpenAI:
    """The SDK client of an embeddings endpoint, SDK retries off (the policy owns retries)."""
    import openai

    return openai.AsyncOpenAI(base_url=base_url, api_key=api_key or "not-needed", max_retries=0, timeout=timeout)


class OpenAIEmbedder:
    """Embeddings over the client it is given (`embeddings_client`), which it closes on `close()`."""

    def __init__(self, client: openai.AsyncOpenAI, *, model: str) -> None:
        self.model = model
        self._client = client

    async def embed(self, texts: list[str]) -> list[list[float]]:
        import openai

        try:
            response = await self._client.embeddings.create(model=self.model, input=texts)
        except openai.RateLimitError as exc:
            raise RateLimited("embeddings", retry_after_seconds(exc.response.headers), str(exc)[:200]) from exc
        except (openai.APITimeoutError, openai.APIConnectionError, openai.InternalServerError) as exc:
            raise TransientError(f"embeddings: {exc}") from exc
        except openai.APIStatusError as exc:
            if exc.status_code >= 500:
                raise TransientError(f"embeddings: HTTP {exc.status_code}") from exc
            raise PermanentFailure(f"embeddings: HTTP {exc.status_code}: {str(exc)[:200]}") from exc
        return [item.embedding for item in sorted(response.data, key=lambda d: d.index)]

    async def close(self) -> None:
        await self._client.close()
