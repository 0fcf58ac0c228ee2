"""Rules version 9: a card that does not work, in a few more words: "contactless" is a card, the card's own error
message ("card error", "card not valid"), and "it" standing for the card a few words on. Each form with near
misses. Sentences written by hand; none is copied from a data set."""

from __future__ import annotations

import pytest

from ticket_enricher.agents.rules.signals import detect


@pytest.mark.parametrize(("text", "found"), [
    ("my contactless has been broken since Friday", True),
    ("contactless stopped working on my debit card", True),
    ("the shop terminal just says card error every time", True),
    ("the machine said card not valid and gave it back", True),
    ("got the replacement card this morning and already it won't work anywhere", True),
    ("the card's stopped working after I dropped it in the sea", True),
    ("how do I turn on contactless?", False),
    ("is contactless free to use abroad?", False),
    ("how do I activate the new card, as it does not seem to work yet?", False),
    ("I paid by card and the receipt had an error in the address", False),
])
def test_a_card_that_does_not_work(text: str, found: bool) -> None:
    assert ("lockout" in detect(text)) is found, text
