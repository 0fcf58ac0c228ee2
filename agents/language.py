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
import string
from functools import cache, cached_property, lru_cache

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
_PUNCTUATION = string.punctuation.replace("'", "")
_CLAUSE_END = re.compile(r"[.!?;:,\n]|\bbut\b|\bthough\b|\bhowever\b")


def normalise(text: str) -> str:
    """HTML entities decoded, NFKC, curly quotes and dashes to ASCII, URLs dropped, whitespace squeezed."""
    text = unicodedata.normalize("NFKC", html.unescape(text)).translate(_FOLD)
    return _SPACE.sub(" ", _URL.sub(" ", text)).strip()


class Text:
    """One normalised text and what the lexicons need besides it. VADER runs only when asked for `compound`
    (and callers ask only when `maybe_negative` or a pattern needs it): it costs more than all the lexicons."""

    def __init__(self, original: str) -> None:
        self.original = original  # normalised, case kept (for quotes and capitals)
        self.lower = original.casefold()  # normalised and case-folded (what the lexicons match)
        analyzer = _analyzer()
        tokens = [t.strip(_PUNCTUATION) or t for t in self.lower.split()]
        valence = analyzer.lexicon
        negative = {t for t in tokens if valence.get(t, 0.0) < 0}
        # VADER's compound can be negative only through a negative word or emoticon, a negated word, or an emoji
        self.maybe_negative = bool(negative) or not _NEGATORS.isdisjoint(tokens) or "n't" in self.lower or any(
            c in analyzer.emojis for c in original if ord(c) > 0x2000)
        rated = sorted((t for t in negative if valence[t] <= -1.5 and t.isalpha()), key=lambda t: (valence[t], t))
        self.negative_words = tuple(dict.fromkeys(rated))[:3]  # the words VADER rates most negative, worst first
        # words in capitals of four letters or more, acronyms and redactions (XXXX) aside
        self.shouted = tuple(w for w in _SHOUT.findall(original) if w not in _NOT_SHOUTING and w.strip("X"))
        # a third of the words in capitals, or a word in capitals with "!": "REFUND!"
        self.shouting = len(self.shouted) >= max(2, len(tokens) / 3) or _SHOUT_BANG.search(original) is not None

    @cached_property
    def compound(self) -> float:
        """VADER's compound sentiment in [-1, 1], of the first 500 characters (enough for a long narrative)."""
        return float(_analyzer().polarity_scores(self.original[:500])["compound"])

    def negated(self, start: int, span: int = 4) -> bool:
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
    return Text(normalise(text))
