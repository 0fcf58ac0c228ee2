"""Short informal customer text made readable word by word: normalised once, tokenised once, with sentiment,
shouting and negation at hand.

Customers write tweets and chat lines, not tickets: curly apostrophes (’), HTML entities (`&amp;`), capitals,
emoji, profanity. `read_text` turns one text into a `Text`: an ASCII-folded, lower-cased copy, its words and
sentence marks in order (what the lexicons of `agents.lexicons` are looked up with, in `agents.signals`), VADER's
sentiment, the most negative words VADER knows in it, and shouting. It is pure and deterministic, and cached per
text because the rules model reads each event twice.

Sentiment comes from vaderSentiment (a lexicon and rules made for short social-media text), used cheaply: its
lexicon and constants looked up word by word in the same pass that tokenises, with VADER's own rules for
negation (the three words before a word), boosters ("so", "very"), capitals, "but", and "!"/"?" emphasis.
`polarity_scores` itself, which re-tokenises the text and rebuilds lower-cased word lists for every word it
scores, costs several times all the rest of the reading and is not called on the hot path
(`tests/test_language.py` checks that the two agree).
"""

from __future__ import annotations

import html
import math
import re
import unicodedata
from enum import Enum
from functools import cache
from typing import Final

from vaderSentiment import vaderSentiment as vader

_FOLD = str.maketrans({
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'", "\u00b4": "'", "`": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u2033": '"', "\u00ab": '"', "\u00bb": '"',
    "\u2013": "-", "\u2014": "-", "\u2212": "-", "\u00a0": " ", "\ufe0f": None, "\u200d": None, "\u200b": None,
})
_URL = re.compile(r"https?://\S+|www\.\S+")
# words (with inner apostrophes: can't, y'all), handles and hashtags, amounts' currency signs, a few emoticons,
# sentence and clause marks, and any other symbol one character at a time (emoji)
_TOKEN = re.compile(r"[a-z0-9\u00df-\u024f]+(?:'[a-z]+)*|[@#][a-z0-9_]+|[$\u00a3\u20ac]|[:;=]-?[()/\\|dp]|<3"
                    r"|[.!?;:,\n]|[^\x00-\u024f\s]")
_SHOUT = re.compile(r"\b[A-Z]{4,}\b")
_SHOUT_BANG = re.compile(r"\b[A-Z]{4,}!")
_NOT_SHOUTING = frozenset({"USA", "ATM", "APP", "DLC", "TV", "PSN", "PIN", "SIM", "USB", "ETA", "FAQ", "CEO",
                           "UPS", "DHL", "LOL", "OMG", "PS4", "HDMI", "BOGO", "NFL", "NBA", "VAT", "ASAP", "XXXX"})
NEGATORS = frozenset(vader.NEGATE) | {"no", "dont", "didnt", "doesnt", "isnt", "wasnt", "cant", "wont", "never"}
SENTENCE_END = frozenset({".", "!", "?", ";", "\n"})
CLAUSE_END = SENTENCE_END | {",", ":", "but", "though", "however", "although"}
_BOOSTERS = vader.BOOSTER_DICT


@cache
def _vader() -> tuple[dict[str, float], dict[str, float]]:
    """VADER's word valences, and what a word of a text is scored by: its valence, boosters aside (they only
    modify the next words), an emoji's valence (the sum over the words of its description, which is what VADER
    scores an emoji by) and a hashtag's (#sad as sad). Built once per process (VADER's lexicon takes ~20 ms)."""
    lexicon = _analyzer().lexicon
    scored = {w: v for w, v in lexicon.items() if w not in _BOOSTERS}
    scored.update((f"#{w}", v) for w, v in lexicon.items() if w.isalpha() and w not in _BOOSTERS)
    for char, description in _analyzer().emojis.items():
        value = sum(lexicon.get(w, 0.0) for w in description.lower().split())
        if value and len(char) == 1:
            scored[char] = value
    return lexicon, scored


def analyzer() -> vader.SentimentIntensityAnalyzer:
    """The full VADER analyzer, for checks and tools (the reading itself uses `_vader`'s tables)."""
    return _analyzer()


@cache
def _analyzer() -> vader.SentimentIntensityAnalyzer:
    return vader.SentimentIntensityAnalyzer()


def normalise(text: str) -> str:
    """HTML entities decoded, NFKC, curly quotes and dashes to ASCII, URLs dropped, whitespace squeezed (a line
    break kept: it ends a sentence, as between a subject and a body)."""
    if "&" in text:
        text = html.unescape(text)
    if not text.isascii():
        if not unicodedata.is_normalized("NFKC", text):
            text = unicodedata.normalize("NFKC", text)
        text = text.translate(_FOLD)
    if "http" in text or "www." in text:
        text = _URL.sub(" ", text)
    if "\n" in text or "\r" in text:
        return "\n".join(" ".join(line.split()) for line in text.splitlines() if line and not line.isspace())
    return " ".join(text.split())


class Text:
    """One normalised text and what the lexicons need besides it.

    `words` holds the lower-cased words and marks in order ("." "!" "?" ";" ":" "," end a clause; the first
    four a sentence); `compound` is VADER's compound sentiment in [-1, 1]. A reader that looks every word up
    anyway (`agents.signals`) computes it in its own pass with `sentiment`; otherwise it is computed when first
    asked for. Capitals are looked for only when asked for (`shouting`)."""

    __slots__ = ("original", "lower", "words", "exclaims", "_compound", "_negative", "_shouted")

    def __init__(self, original: str) -> None:
        self.original = original  # normalised, case kept (for quotes and capitals)
        self.lower = lower = original.lower()  # normalised and lower-cased (what the lexicons read)
        self.words = _TOKEN.findall(lower)
        self.exclaims = "!!" in original
        self._compound: float | None = None
        self._negative: tuple[str, ...] = ()
        self._shouted: tuple[str, ...] | None = None

    @property
    def compound(self) -> float:
        if self._compound is None:
            get = _vader()[1].get
            return self.sentiment([(i, v) for i, w in enumerate(self.words) if (v := get(w)) is not None])
        return self._compound

    @property
    def negative_words(self) -> tuple[str, ...]:
        """The (up to three) words VADER rates most negative in the text, worst first."""
        self.compound  # noqa: B018 (computes them)
        return self._negative

    def sentiment(self, scored: list[tuple[int, float]]) -> float:
        """Set (and return) the compound score from the words VADER scores, as (index, valence) in order."""
        self._compound, self._negative = _sentiment(self.words, scored, self.original)
        return self._compound

    @property
    def shouted(self) -> tuple[str, ...]:
        """Words in capitals of four letters or more, acronyms and redactions (XXXX) aside."""
        if self._shouted is None:
            self._shouted = tuple(w for w in _SHOUT.findall(self.original) if w not in _NOT_SHOUTING
                                  and w.strip("X"))
        return self._shouted

    @property
    def shouting(self) -> bool:
        """A third of the words in capitals (two at least), or a word in capitals with "!": "REFUND!"."""
        shouted = self.shouted
        return bool(shouted) and (len(shouted) >= max(2, len(self.words) / 3)
                                  or _SHOUT_BANG.search(self.original) is not None)

    def negated(self, i: int, span: int = 3) -> bool:
        """Whether one of the `span` words before word `i` negates it, within its clause: "not looking for a
        refund", "never had a problem", "no issue"."""
        words = self.words
        for j in range(i - 1, max(-1, i - 1 - span), -1):
            w = words[j]
            if w in CLAUSE_END:
                return False
            if w in NEGATORS or w.endswith("n't"):
                return True
        return False

    def offset(self, i: int) -> int:
        """Where word `i` starts in `lower` (and `original`), found when a quote needs it: the word's k-th
        occurrence as a whole word, k counted in `words`."""
        words, lower = self.words, self.lower
        if i >= len(words):
            return len(lower)
        w = words[i]
        k = words[:i].count(w)
        at = -1
        while True:
            at = lower.find(w, at + 1)
            if at < 0:
                return 0
            if (at == 0 or not lower[at - 1].isalnum()) and not lower[at + len(w): at + len(w) + 1].isalnum():
                if k == 0:
                    return at
                k -= 1

    def written(self, i: int) -> str:
        """Word `i` as the customer wrote it, case kept ("US" in "US Mobile", "Zen" in "switching to Zen")."""
        at = self.offset(i)
        return self.original[at:at + len(self.words[i])] if i < len(self.words) else ""

    def quote(self, first: int, last: int | None = None, room: int = 20) -> str:
        """Words `first`..`last` with a little context, cut at word boundaries, from the case-kept text."""
        last = first if last is None else last
        start = self.offset(first)
        end = (self.offset(last) if last != first else start) + len(self.words[last]) if last < len(self.words) \
            else len(self.original)
        lo = self.original.rfind(" ", 0, max(0, start - room)) + 1
        hi = self.original.find(" ", min(len(self.original), end + room))
        return self.original[lo: hi if hi != -1 else len(self.original)].strip()[:120]


def scored_words() -> dict[str, float]:
    """What each word of a text is scored by in `Text.sentiment` (VADER's valences, boosters aside, emoji and
    hashtags as their words): for a reader that looks every word up in its own pass."""
    return _vader()[1]


def _sentiment(words: list[str], hits: list[tuple[int, float]], original: str) -> tuple[float, tuple[str, ...]]:
    """VADER's compound score from its lexicon, word by word, with its rules for the three words before a word
    (boosters, decayed 0.95 and 0.9; negation, x -0.74; "never so"), capitals (a word VADER scores written in
    capitals, when not all the text is), "no", "but", and "!"/"?"; and the (up to three) most negative
    lexicon words, worst first."""
    if not hits:
        return 0.0, ()
    modifier = _modifiers()
    n = len(words)
    but_at = words.index("but") if "but" in words else n
    caps = None
    total = 0.0
    negative: list[tuple[float, str]] = []
    for i, v in hits:
        w = words[i]
        if w == "no" and i + 1 < n and modifier.get(words[i + 1]) is _LEXICAL:
            continue  # "no" negates the next word rather than counting itself
        if v <= -1.5 and w.isalpha():
            negative.append((v, w))
        if len(w) > 1 and w.isalpha() and w.upper() in original:
            if caps is None:
                caps = not original.isupper()
            if caps:
                v += vader.C_INCR if v > 0 else -vader.C_INCR
        for back in (1, 2, 3) if i else ():
            j = i - back
            if j < 0:
                break
            kind = modifier.get(words[j])
            if kind is None or kind is _LEXICAL:
                continue
            if kind is _NEGATION:
                v *= 1.25 if back > 1 and words[j] == "never" and words[j + 1] in ("so", "this") else vader.N_SCALAR
            elif kind is _NO:
                if back <= 2:
                    v *= vader.N_SCALAR
            else:
                v += (kind if v >= 0 else -kind) * _DECAY[back]
        total += v * (0.5 if i < but_at else 1.5) if but_at < n else v
    if total:
        bangs = min(original.count("!"), 4) * 0.292
        questions = original.count("?")
        emphasis = bangs + (0.0 if questions <= 1 else questions * 0.18 if questions <= 3 else 0.96)
        total += emphasis if total > 0 else -emphasis
    worst = tuple(dict.fromkeys(w for _, w in sorted(negative)))[:3] if negative else ()
    return total / math.sqrt(total * total + 15), worst


class _Mark(Enum):
    """What a modifier word is, when it is not a booster (whose value is its float)."""

    LEXICAL = 1
    NEGATION = 2
    NO = 3


_LEXICAL: Final = _Mark.LEXICAL
_NEGATION: Final = _Mark.NEGATION
_NO: Final = _Mark.NO


@cache
def _modifiers() -> dict[str, float | _Mark]:
    """What a word does to the three words after it, for `_sentiment`: a word of VADER's lexicon does nothing
    ("no" aside: it negates the next two), a booster adds its value, a negation multiplies by -0.74."""
    out: dict[str, float | _Mark] = {w: _LEXICAL for w in _vader()[0]}
    for w, value in _BOOSTERS.items():
        out.setdefault(w, value)
    for w in NEGATORS:
        if out.get(w) is not _LEXICAL:
            out[w] = _NEGATION
    out["no"] = _NO
    return out


_DECAY = (0.0, 1.0, 0.95, 0.9)


def read_text(text: str) -> Text:
    return Text(normalise(text))
