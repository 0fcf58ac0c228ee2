"""Whose trouble a text tells: the customer's, or someone else's told as a story ("my cousin in Berlin says the
app was down", "a friend's card got locked in Japan"). A customer writing for the household ("my mom's internet
is down again") is the customer."""

from __future__ import annotations

from ticket_enricher.agents.rules.signals.reading import Reading

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
