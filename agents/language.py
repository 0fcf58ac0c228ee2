"""Short informal customer text made matchable: normalised once, with sentiment, shouting and negation at hand.

Customers write tweets and chat lines, not tickets: curly apostrophes (’), HTML entities (`&amp;`), capitals,
emoji, profanity. `read_text` turns one text into a `Text`: an ASCII-folded, lower-cased copy for the lexicons
in `agents.signals`, VADER's sentiment (a lexicon and rules made for short social-media text, which handles
negation, intensifiers, capitals and emoji), the most negative words VADER knows in it, and shouting. It is
pure and deterministic, built on one analyzer made once, and cached per text because the rules model reads
each event twice.
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

_FOLD = str.maketrans({
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'", "\u00b4": "'", "`": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u2033": '"', "\u00ab": '"', "\u00bb": '"',
    "\u2013": "-", "\u2014": "-", "\u2212": "-", "\u00a0": " ", "\ufe0f": None, "\u200d": None, "\u200b": None,
})
_URL = re.compile(r"https?://\S+|www\.\S+")
_SPACE = re.compile(r"\s+")
_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")
_SHOUT = re.compile(r"\b[A-Z]{4,}\b")
_SHOUT_BANG = re.compile(r"\b[A-Z]{4,}!")
_NOT_SHOUTING = frozenset({"USA", "ATM", "APP", "DLC", "TV", "PSN", "PIN", "SIM", "USB", "ETA", "FAQ", "CEO",
                           "UPS", "DHL", "LOL", "OMG", "PS4", "HDMI", "BOGO", "NFL", "NBA", "VAT", "ASAP"})
_NEGATORS = frozenset({"not", "no", "never", "nor", "without", "dont", "didnt", "doesnt", "isnt", "wasnt", "arent",
                       "werent", "wont", "wouldnt", "cant", "cannot", "havent", "hasnt", "hadnt", "shouldnt",
                       "don't", "didn't", "doesn't", "isn't", "wasn't", "aren't", "weren't", "won't",
                       "wouldn't", "can't", "haven't", "hasn't", "hadn't", "shouldn't", "neither"})
_CLAUSE_END = re.compile(r"[.!?;:,\n]|\bbut\b|\bthough\b|\bhowever\b")


def normalise(text: str) -> str:
    """HTML entities decoded, NFKC, curly quotes and dashes to ASCII, URLs dropped, whitespace squeezed."""
    text = unicodedata.normalize("NFKC", html.unescape(text)).translate(_FOLD)
    return _SPACE.sub(" ", _URL.sub(" ", text)).strip()


@dataclass(frozen=True)
class Text:
    """One normalised text and what the lexicons need besides it."""

    original: str  # normalised, case kept (for quotes and capitals)
    lower: str  # normalised and case-folded (what the lexicons match)
    compound: float  # VADER's compound sentiment in [-1, 1]
    negative_words: tuple[str, ...]  # the words VADER rates most negative, worst first (at most three)
    shouted: tuple[str, ...]  # words in capitals of four letters or more, acronyms aside
    shouting: bool  # a third of the words in capitals, or a word in capitals with "!": "REFUND!"

    def negated(self, start: int, span: int = 3) -> bool:
        """Whether one of the `span` words before offset `start` negates what follows, within one clause:
        "not looking for a refund", "never had a problem", "no issue"."""
        before = self.lower[max(0, start - 60):start]
        clause = _CLAUSE_END.split(before)[-1]
        return any(w in _NEGATORS for w in _WORD.findall(clause)[-span:])

    def quote(self, start: int, end: int, room: int = 20) -> str:
        """The matched words with a little context, cut at word boundaries, from the case-kept text."""
        lo = self.original.rfind(" ", 0, max(0, start - room)) + 1
        hi = self.original.find(" ", min(len(self.original), end + room))
        return self.original[lo: hi if hi != -1 else len(self.original)].strip()[:120]


@cache
def _analyzer() -> SentimentIntensityAnalyzer:
    """One analyzer per process: loading its lexicon takes ~20 ms."""
    return SentimentIntensityAnalyzer()


@lru_cache(maxsize=4096)
def read_text(text: str) -> Text:
    analyzer = _analyzer()
    original = normalise(text)
    lower = original.casefold()
    scores = analyzer.polarity_scores(original[:2000])  # sentiment of a long narrative's start is enough
    lexicon = analyzer.lexicon
    rated = sorted({w for w in _WORD.findall(lower) if lexicon.get(w, 0.0) <= -1.5},
                   key=lambda w: (lexicon[w], w))
    shouted = tuple(w for w in _SHOUT.findall(original) if w not in _NOT_SHOUTING)
    words = len(_WORD.findall(lower)) or 1
    shouting = len(shouted) >= max(2, words / 3) or _SHOUT_BANG.search(original) is not None
    return Text(original=original, lower=lower, compound=float(scores["compound"]),
                negative_words=tuple(rated[:3]), shouted=shouted, shouting=shouting)
