"""Hybrid relevance: BM25, entity matching, recency and (when configured) semantic similarity, fused into [0, 1].

Each signal is in [0, 1] on its own scale; the fused score is their weighted sum, so a threshold means the same
thing from query to query. Without an embeddings endpoint the semantic weight is spread over the others.
"""

from __future__ import annotations

import functools
import hashlib
import math
import re
from collections import Counter
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import datetime

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_ENTITY = re.compile(r"\b(?:[A-Z][A-Za-z0-9]+|[A-Za-z]*\d[A-Za-z0-9\-]*)\b|\"([^\"]{2,60})\"")
STOPWORDS = frozenset(
    "a an and are as at be been but by can could did do does for from had has have how i if in into is it its me "
    "my no not of on or our so that the their them then there these they this to was we were what when where which "
    "who why will with would you your yours us".split()
)
RECENCY_HALF_LIFE_DAYS = 30.0
WEIGHTS = {"bm25": 0.7, "entity": 0.15, "recency": 0.15}
WEIGHTS_WITH_SEMANTIC = {"semantic": 0.45, "bm25": 0.35, "entity": 0.1, "recency": 0.1}


def query_terms(text: str, limit: int = 32) -> list[str]:
    words = (w.lower() for w in _WORD.findall(text))
    return list(dict.fromkeys(w for w in words if len(w) > 1 and w not in STOPWORDS))[:limit]


def query_entities(text: str) -> set[str]:
    """Proper nouns, ids with digits and quoted phrases in the query, lower-cased word by word."""
    found: set[str] = set()
    for match in _ENTITY.finditer(text):
        phrase = match.group(1) or match.group(0)
        found.update(w.lower() for w in _WORD.findall(phrase) if w.lower() not in STOPWORDS and len(w) > 1)
    return found


def words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]


def entity_score(entities: AbstractSet[str], text_words: AbstractSet[str]) -> float:
    return len(entities & text_words) / len(entities) if entities else 0.0


def stem(word: str) -> str:
    """Five-letter prefixes as a cheap stem, close to FTS5's porter stemming for counting term frequency."""
    return word[:5]


def idf(docs: int, df: int) -> float:
    return math.log(1.0 + (docs - df + 0.5) / (df + 0.5))


@dataclass(frozen=True)
class TextStats:
    """What scoring needs of a memory's text: its length in words, the count of each stem, its words."""

    length: int
    stems: dict[str, int]
    words: frozenset[str]


@functools.lru_cache(maxsize=4096)
def text_stats(text: str) -> TextStats:
    """The stats of one text, kept for the texts searched most recently: every event of an account searches
    the same notes again, and reading their words was most of a search's time."""
    found = words(text)
    return TextStats(len(found), dict(Counter([stem(w) for w in found])), frozenset(found))


def text_match(terms: list[str], entities: set[str], text: str, idfs: dict[str, float],
               avg_len: float) -> tuple[float, float]:
    """(bm25, entity) of one memory's text: the same as `bm25_score` and `entity_score` over its words."""
    stats = text_stats(text)
    return _bm25(terms, stats.length, stats.stems, idfs, avg_len), entity_score(entities, stats.words)


def bm25_score(terms: list[str], text_words: list[str], idfs: dict[str, float], avg_len: float,
               k1: float = 1.2, b: float = 0.75) -> float:
    """Okapi BM25 over the memory's words, divided by the score of an average-length memory holding every query
    term once, and capped at 1: a fixed scale, so a threshold means the same from query to query.

    FTS5's own bm25() recounts every term's document frequency over the whole index on each query; at a
    million memories that alone costs tens of milliseconds, so the store matches with FTS5 and scores here,
    with document frequencies cached.
    """
    counts: dict[str, int] = {}
    for w in text_words:
        key = stem(w)
        counts[key] = counts.get(key, 0) + 1
    return _bm25(terms, len(text_words), counts, idfs, avg_len, k1, b)


def _bm25(terms: list[str], length: int, counts: dict[str, int], idfs: dict[str, float], avg_len: float,
          k1: float = 1.2, b: float = 0.75) -> float:
    if not terms or not length:
        return 0.0
    norm = k1 * (1 - b + b * length / max(avg_len, 1.0))
    total = ideal = 0.0
    for t in terms:
        weight = idfs.get(t, 0.0)
        tf = counts.get(stem(t), 0)
        total += weight * tf * (k1 + 1) / (tf + norm) if tf else 0.0
        ideal += weight
    return min(1.0, total / ideal) if ideal > 0 else 0.0


def recency_score(created_at: datetime, now: datetime) -> float:
    age_days = max((now - created_at).total_seconds(), 0.0) / 86400.0
    return math.exp(-math.log(2) * age_days / RECENCY_HALF_LIFE_DAYS)


def cosine(a: list[float], b: list[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    norm = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return max(0.0, dot / norm) if norm else 0.0


def fuse(signals: dict[str, float], *, semantic: bool) -> float:
    weights = WEIGHTS_WITH_SEMANTIC if semantic else WEIGHTS
    return min(1.0, max(0.0, sum(w * signals.get(name, 0.0) for name, w in weights.items())))


def scope_token(field: str, value: object) -> str:
    """One FTS token per entity id, so a search can be confined to an account inside the full-text index."""
    return field[0] + hashlib.sha1(f"{field}\0{value}".encode()).hexdigest()[:20]


def fts_match(terms: list[str], scope_tokens: list[str] | None) -> str:
    """An FTS5 query in which every word is a quoted string: ticket text cannot inject FTS5 syntax."""
    words = " OR ".join(f'"{t}"' for t in terms)
    if not scope_tokens:
        return f"memory : ({words})"
    return f"scope : ({' OR '.join(scope_tokens)}) AND memory : ({words})"
