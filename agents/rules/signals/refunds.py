"""Money sought back that was not simply granted: "I want a refund", "still not reimbursed", "my $13 back"; not
a refund received, praised or asked about ("got my refund", "the refund policy is great", "how long does a refund
take")."""

from __future__ import annotations

from ticket_enricher.agents.rules.language import CLAUSE_END
from ticket_enricher.agents.rules.signals.money import _ASKING, _kins_money, _routine
from ticket_enricher.agents.rules.signals.reading import (
    _CASH,
    _DEMAND,
    _GRANTED,
    _WANT,
    MONEY,
    NEG,
    SEEK,
    STRONG,
    Reading,
)
from ticket_enricher.agents.rules.signals.whose import news

_ABOUT_REFUNDS = frozenset({"policy", "policies", "process", "window", "rules", "rule", "terms"})
_CAME = frozenset({"came", "arrived", "landed", "showed", "hit", "cleared", "posted", "appeared"})


def _got_it(r: Reading, i: int) -> bool:
    """ "I got my @x flight refund", "finally received the refund": the customer has it."""
    words = r.words
    return any(words[j] in ("got", "received") and words[j + 1] in ("my", "our", "the") and r.word(j - 1) in (
        "i", "we", "finally", "just", "") for j in range(max(0, i - 5), i - 1))


_UNDONE = frozenset({"still", "yet", "but", "?", "where", "when", "why", "however", "only", "half", "partial",
                     "instead", "missing", "wrong"})


def _arrived(r: Reading, i: int) -> bool:
    """ "refund from @x came through in 2 days", "the refund landed", "the refund was in my account before the box
    was picked up", "the refund for my cancelled order was processed in minutes": money back that has arrived;
    not "processed two weeks ago but still nothing"."""
    words = r.words
    for j, w in enumerate(words[i + 1:i + 9], i + 1):
        if w in CLAUSE_END:
            return False
        if r.negated(j, 2):
            continue  # "was not processed", "never came"; not "the game I didn't like was processed"
        if w in _CAME or w in ("was", "is", "already") and r.word(j + 1) == "in" and r.word(j + 2) in ("my", "our") \
                or w == "processed" and r.word(j - 1) in ("was", "been", "got") or w == "back" and r.word(j - 1) in (
                    "was", "is", "it's", "its", "came"):
            return _UNDONE.isdisjoint(words[j + 1:])
    return False


def _not_here(r: Reading, i: int) -> bool:
    """Money granted that has not come: "still don't have it", "yet nothing in my account"."""
    after = r.words[i + 1:]
    return not {"still", "yet"}.isdisjoint(after) and any(r.cls(k) & NEG for k in range(i + 1, r.n))


def _given(r: Reading, i: int) -> bool:
    """ "customer care refunded my money", "refunded within 24 hours", "got my money back", "put the money back":
    money given back, told as done; not "be refunded", "you refunded the wrong amount", nor "refunded half"."""
    words = r.words
    w, before = words[i], r.word(i - 1)
    if w in ("refunded", "reimbursed"):
        done = before not in _ASKING and before not in ("be", "get", "getting", "been", "being", "to", "not", "want",
                                                        "wanted", "need", "i", "we", "never", "have", "has")
    elif w in _CASH and "back" in (r.word(i + 1), r.word(i + 2)):
        done = before in ("got", "put", "gave") or r.word(i - 2) in ("got", "put", "gave") and before in (
            "my", "the", "our", "me", "us", "all")
    else:
        return False
    wish = any(x in _WANT or x in _ASKING or x in ("like", "need", "needs") for x in words[max(0, i - 5):i])
    return done and not wish and not r.negated(i, 4) and _UNDONE.isdisjoint(words[i + 1:])


def _anyone_can(r: Reading, i: int) -> bool:
    """ "you can get a refund on @x for any game": what anyone may do, not the customer asking ("can you refund
    me?")."""
    words = r.words
    return any(words[j] == "you" and words[j + 1] in ("can", "could") and r.word(j - 1) not in (
        "can", "could", "will", "would") for j in range(max(0, i - 5), i - 1))



def escalation_refund(r: Reading) -> int:
    """Money sought back that was not simply granted: "I want a refund", "still not reimbursed", "no refund",
    "my $13 back", "want to be credited"; not "got my refund, thanks", "how long does a refund take", nor "not
    looking for a refund"."""
    if not r.mask & (SEEK | MONEY):
        return -1
    words = r.words
    for i, m, s in r.hits:
        w = words[i]
        if m & SEEK:
            if r.negated(i, 4):
                lo = max(0, i - 4)
                if any(words[j] in _WANT for j in range(lo, i)):
                    continue  # "not looking for a refund", "don't want compensation"
                return i  # "no refund", "haven't been refunded", "never got my refund"
            before = {words[j] for j in range(max(0, i - 3), i)}
            if before & _GRANTED and not before & (_WANT | _ASKING) and not r.smask[s] & STRONG:
                continue  # "got my refund", "was refunded", "refund was issued" (below)
            if _given(r, i):
                continue  # "@x refunded my money without me asking", "got my money back in two days"
            if r.smask[s] & STRONG == 0 and (_got_it(r, i) or r.word(i + 1) in _ABOUT_REFUNDS or _arrived(r, i) or
                                             w.endswith("ing") and r.word(i - 1).startswith("@") or
                                             _kins_money(r, s) or news(r, s) or _anyone_can(r, i) or
                                             _given(r, i)):
                continue  # "the refund policy is great", "refund from @x came through in 2 days", "@x reimbursing
                # ATM fees worldwide", "my friends paying me back", "TIL you can get a refund on @x"
            if w.endswith("ed") and r.word(i - 1) in ("been", "was", "were", "got", "be"):
                continue
            if w == "refunded" and r.word(i + 1) in ("me", "us") and i and r.word(i - 1) not in (
                    "you", "they", "u", "y'all") and not r.cls(i - 1) & NEG and not r.smask[s] & STRONG:
                continue  # "my roommate refunded me for the tickets": given back, not sought
            if r.word(i + 1) in ("was", "has", "is", "have") and r.word(i + 2) in ("issued", "processed",
                                                                                     "approved", "been", "sent"):
                if _not_here(r, i):
                    return i  # "the refund was processed 2 weeks ago and I still don't have it"
                continue
            if _routine(r, s) and not r.smask[s] & STRONG:
                continue
            return i
        if m & MONEY:
            if w in ("pay", "paying") and r.word(i + 1) in ("me", "us") and r.word(i + 2) == "back" and \
                    not _kins_money(r, s):
                return i  # "pay me back for the hotel"; not "my friends paying me back in 3 apps"
            if w in _CASH:
                for j in range(i + 1, min(r.n, i + 4)):
                    if words[j] == "back" and not r.negated(i) and not _given(r, i):
                        return i
                    if words[j] in CLAUSE_END:
                        break
            elif w.startswith("credit") and r.word(i + 1) not in ("card", "cards", "score", "report", "union"):
                if any(words[j] in _DEMAND for j in range(max(0, i - 4), i)) and not _routine(r, s):
                    return i
    return -1
