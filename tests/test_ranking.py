"""The text scores of hybrid search: computed from cached per-text stats, they equal the plain computation."""

from __future__ import annotations

import random

from ticket_enricher.memory import ranking

VOCAB = ("outage the is back and our team cannot work İstanbul billing refund refunded charged twice Dashboard "
         "down again ÄÖÜ straße 5th-time don't").split()


def test_cached_text_stats_score_exactly_as_the_words_do() -> None:
    rng = random.Random(1)
    for _ in range(3000):
        text = " ".join(rng.choice(VOCAB) for _ in range(rng.randint(0, 30)))
        terms = sorted({rng.choice(VOCAB).lower() for _ in range(rng.randint(1, 3))})
        entities = {rng.choice(VOCAB).lower() for _ in range(rng.randint(0, 2))}
        idfs = {t: rng.random() * 3 for t in terms}
        words = ranking.words(text)
        expected = (ranking.bm25_score(terms, words, idfs, 12.0), ranking.entity_score(entities, set(words)))
        assert ranking.text_match(terms, entities, text, idfs, 12.0) == expected, (text, terms)
    assert ranking.text_stats.cache_info().hits > 0  # the same texts came back and were not read again


def test_bm25_is_higher_for_more_occurrences_and_capped() -> None:
    idfs = {"outage": 2.0}
    once, twice = (ranking.text_match(["outage"], set(), t, idfs, 2.0)[0]  # longer than average: below the cap
                   for t in ("an outage today for us", "outage outage today for us"))
    assert 0 < once < twice <= 1.0
    assert ranking.text_match(["outage"], set(), "", idfs, 8.0) == (0.0, 0.0)
