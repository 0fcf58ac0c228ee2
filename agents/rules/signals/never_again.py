"""Never again: a customer who will not use, buy, fly or renew with the company again ("never flying with you
again", "I'll never use you"), told apart from a vow about the customer's own life ("hope it never happens
again", "never going back to paper bills")."""

from __future__ import annotations

from ticket_enricher.agents.rules import lexicons as L
from ticket_enricher.agents.rules.language import CLAUSE_END
from ticket_enricher.agents.rules.signals.reading import _CLASS_GET, NEVER_AGAIN, PROVIDER, Reading

_SOMEONE = frozenset({"you", "your", "u", "ur", "y'all", "yall", "here", "there", "them", "they", "company"})


def _back_to_them(r: Reading, k: int) -> bool:
    """Whether what the customer goes "back to" at `k` is a company ("@x", "you", "Comcast", "that bank")."""
    x = r.word(k)
    return x.startswith("@") or x in _SOMEONE or x in L.BRANDS or bool(r.cls(r.next_content(k - 1)) & PROVIDER)


def never_again(r: Reading, i: int) -> bool:
    """ "never again"; "never ... again" around a verb of using ("never flying with you again", not "hope it
    never happens again"); "never" with such a verb in -ing ("never flying with you"), or in the base form after
    "will", "'ll", "would" ("I'll never use you"); "never going to" only with such a verb ("never going to shop
    here", not "never going to get my money back")."""
    words = r.words
    x, prev = r.word(i + 1), r.word(i - 1)
    if x == "again":
        return True
    if not {"else", "other"}.isdisjoint(words[i + 2:i + 6]):
        return False  # loyalty: "the reason I'll never fly anything else"
    if "back" in words[i + 2:i + 4] and r.word(words.index("back", i + 2) + 1) == "to" and not _back_to_them(
            r, words.index("back", i + 2) + 2):
        return False  # "never going back to paper bills"
    if x == "ever":
        x = r.word(i + 2)
    if x in ("going", "gonna") and r.word(i + 2) in ("to", "back", "") or x == "gonna":
        y = r.word(i + 3) if r.word(i + 2) == "to" else r.word(i + 2)
        return y in _LEAVE_AFTER_TO or y == "back" or x == "going" and r.word(i + 2) == "back"
    if not _CLASS_GET(x, 0) & NEVER_AGAIN or x in ("set", "back", "again") or x.endswith("ed"):
        return False
    again = False
    for j in range(i + 2, min(r.n, i + 9)):
        if words[j] in CLAUSE_END:
            break
        if words[j] == "again":
            again = True
    if x.endswith("ing"):
        return x not in ("getting", "using", "going", "coming", "giving") or again or r.word(i + 2) in (
            "you", "your", "this", "them", "back") or r.word(i + 2).startswith("@")
    return again or prev in ("will", "i'll", "we'll", "would", "i'd", "we'd", "shall")


_LEAVE_AFTER_TO = frozenset({"use", "buy", "fly", "order", "shop", "return", "recommend", "book", "stay", "eat",
                             "deal", "trust", "renew", "choose", "pick", "purchase", "visit", "travel", "come", "go",
                             "be", "spend", "ride", "rent", "subscribe"})
