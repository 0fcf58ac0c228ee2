"""What model calls cost: tokens as the server reported them, priced by `model.prices` (US dollars per million)."""

from __future__ import annotations

from ticket_enricher.agents.models import Usage
from ticket_enricher.config.settings import Price


def cost_usd(usage: Usage, price: Price | None) -> float | None:
    """None when the model has no price: the tokens are still recorded, the money is not guessed."""
    if price is None:
        return None
    cached = min(usage.cached_input_tokens, usage.input_tokens)
    cached_price = price.cached_input if price.cached_input is not None else price.input
    return ((usage.input_tokens - cached) * price.input + cached * cached_price
            + usage.output_tokens * price.output) / 1_000_000
