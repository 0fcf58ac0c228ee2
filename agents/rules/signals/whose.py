"""Whose trouble a text tells, and whether it is lived: the customer's, or someone else's told as a story ("my
cousin in Berlin says the app was down"), news, a failure that may come, a feature talked about. A customer
writing for the household ("my mom's internet is down again") is the customer."""

from __future__ import annotations

from ticket_enricher.agents.rules.signals.reading import _ME, Reading

# people whose trouble is theirs, not the customer's: "my cousin says the outage map is shrinking"
KIN = frozenset({"sister", "brother", "mum", "mom", "dad", "friend", "friends", "wife", "husband", "son", "daughter",
                 "roommate", "flatmate", "boss", "cousin", "uncle", "aunt", "kid", "kids", "neighbour", "neighbor",
                 "colleague", "colleagues", "coworker", "coworkers", "boyfriend", "girlfriend", "partner", "parents",
                 "grandpa", "grandma", "sister's", "brother's", "friend's", "mom's", "mum's", "dad's", "cousin's",
                 "wife's", "husband's", "son's", "daughter's", "neighbour's", "neighbor's", "boss's"})


_SELF = frozenset({"i", "we", "me", "us", "i'm", "we're", "i've", "we've"})
_TOLD = frozenset({"says", "said", "texted", "told", "tells", "heard", "saw", "called", "she", "he", "her", "his",
                   "they", "their", "him", "them"})


def someone_elses(r: Reading, i: int) -> bool:
    """Whether the trouble at `i` is told of someone else: a kin or a friend is in its sentence, the customer
    ("i", "we", "me", "us") is not, and it is told as their story: by a verb of telling, "a friend's", or "she"
    ("a friend's flight got held for weather", "my cousin in Berlin says the app was down"); "my mom's internet is
    down again" is a customer's complaint for the household."""
    lo, hi = r.span(r.sentence_of(i))
    words = r.words[lo:hi]
    if KIN.isdisjoint(words) or not _SELF.isdisjoint(words):
        return False
    return not _TOLD.isdisjoint(words) or any(r.word(k - 1) in ("a", "an") for k in range(lo, hi) if r.words[k] in KIN)


_NEWS = frozenset({"reportedly", "according", "news", "headline", "headlines", "breaking", "per", "heard", "reading"})
_MAY = frozenset({"might", "may", "could", "will", "gonna", "would"})
_TOGGLES = frozenset({"toggle", "toggles", "switch", "button", "feature", "setting", "settings", "option"})


def not_lived(r: Reading, i: int) -> bool:
    """Whether the failure at `i` is not one the customer lives: news with no first person in its sentence
    ("internet outage at the county courthouse, per local news"), someone else's story, or one that may come
    ("the servers might actually go down tonight"; not "will it go down again?")."""
    words = r.words
    lo, hi = r.span(r.sentence_of(i))
    if not _NEWS.isdisjoint(words) and _ME.isdisjoint(words[lo:hi]) and any(w in _NEWS and (w != "per" or r.word(
            k + 1) in ("local", "the", "reports", "news", "sources")) for k, w in enumerate(words[lo:hi], lo)):
        return True
    if words[i] in ("down", "crash", "fail", "break") and not _MAY.isdisjoint(words[max(0, i - 4):i]) and \
            "again" not in words[max(0, i - 4):i + 3]:
        return True
    return someone_elses(r, i)


def a_feature(r: Reading, i: int) -> bool:
    """Whether a lock at `i` is a feature talked about, not a lock the customer is in: "the locked card toggle is
    so smart", "does locking my card also block contactless?"."""
    lo, hi = r.span(r.sentence_of(i))
    words = r.words[lo:hi]
    return not _TOGGLES.isdisjoint(words) or r.word(hi) == "?" and "locking" in words and not {
        "does", "do", "will", "can", "if"}.isdisjoint(words)
