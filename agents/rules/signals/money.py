"""Money in dispute: a charge the customer contests, or money sought back that was not simply granted."""

from __future__ import annotations

from ticket_enricher.agents.rules.language import CLAUSE_END
from ticket_enricher.agents.rules.signals.reading import (
    _CASH,
    _CHARGE_WORDS,
    _CREDIT_NOT_MONEY,
    _DEMAND,
    _GRANTED,
    _NOT_TAKEN,
    _PASSIVE,
    _PAYING,
    _WANT,
    BATTERY,
    MONEY,
    NEG,
    SEEK,
    STRONG,
    WEAK,
    Reading,
)


def _routine(r: Reading, s: int) -> bool:
    """A routine question about money or a thank-you in sentence `s`: "how long does a refund take", "when will
    I get it", "thanks for the refund"."""
    lo, hi = r.span(s)
    words = r.words
    for j in range(lo, hi):
        w = words[j]
        if w == "how" and r.word(j + 1) in ("long", "soon", "do", "does", "can", "to", "much", "many", "would"):
            return True
        if w == "when" and r.word(j + 1) in ("will", "do", "does", "can", "is", "should", "would", "are", "might"):
            return True
        if w in ("does", "do", "will", "would") and j == lo and any(
                x in ("go", "goes", "take", "takes", "arrive", "appear", "show", "come", "process", "post")
                for x in words[j + 1:j + 6]):
            return True  # how the money moves: "does the refund go back to my card?"
        if w in ("status", "track", "tracking", "eta", "thanks", "thank", "thx", "appreciate"):
            return True
    return False


_DISCOUNTS = frozenset({"promo", "promotion", "discount", "discounted", "coupon", "voucher", "code", "sale", "deal",
                        "offer", "advertised"})
_ASKING = frozenset({"can", "could", "may", "please", "i'd", "would", "should", "promised", "supposed", "told",
                     "owed", "owe"})  # "can I get compensation?"


def _no_reason(r: Reading, s: int) -> bool:
    lo, hi = r.span(s)
    return any(r.words[j] == "reason" and r.words[j - 1] in ("no", "any", "apparent") for j in range(max(lo, 1), hi))


_TAKEN = frozenset({"took", "taken", "stole", "withdrew", "withdrawn"})
_TROUBLE = frozenset({"problem", "problems", "issue", "issues", "trouble", "complaint", "dispute"})


def billing_error(r: Reading) -> int:
    """A money word with a word of dispute: strong anywhere in its sentence ("charged twice", "why was I
    billed"), weak only close by ("charged more", "made me pay") and outside a routine question or thanks."""
    if not r.mask & MONEY or not r.mask & (STRONG | WEAK | NEG) and _TROUBLE.isdisjoint(r.words) and \
            _TAKEN.isdisjoint(r.words):
        return -1
    words = r.words
    for i, m, s in r.hits:
        if not m & MONEY or m & SEEK:
            continue
        w = words[i]
        if w in _CHARGE_WORDS and (r.smask[s] & BATTERY or r.word(i - 1) in ("in", "of", "free", "per", "full")):
            continue  # a battery's charge, a person in charge, free of charge
        if w.startswith("credit") and r.word(i + 1) in _CREDIT_NOT_MONEY or r.negated(i):
            continue  # a credit report or a credit card is no money of the customer's
        sm = r.smask[s]
        if m & STRONG and w not in ("credit", "credits"):
            return i  # a money word that disputes by itself: "you overcharged me", "overbilled again"
        if w in ("price", "prices") and r.word(i - 1) == "full" and r.in_sentence(i, _DISCOUNTS):
            return i  # "the promo code didn't apply and I was charged full price"
        if (w in _CHARGE_WORDS or w in _PASSIVE) and _no_reason(r, s):
            return i  # "charged a late fee for no reason"
        if sm & STRONG:
            j = r.near(i, STRONG, 10, 10)
            if j >= 0:
                x = words[j]
                soft = x in ("still", "again", "never", "without", "why")
                if not (soft and _routine(r, s)) and not (x == "why" and w.startswith("pay")):
                    return i
        if sm & WEAK:
            j = r.near(i, WEAK, 3, 3)
            if j >= 0 and not _routine(r, s) and not (words[j] == "back" and w not in _CASH) and not (
                    w in _PAYING and words[j] not in ("made", "make", "making", "force", "forced", "back")):
                return i  # "charged more", "price went up", "made me pay"; not "late with my payment for more"
        if r.text.compound <= -0.5 and w not in ("pay", "payment", "payments", "paying", "credit") and \
                not _routine(r, s):
            return i  # money in an angry message: "$50 for this garbage?"
        if w in _CASH and any(x in _TAKEN for x in words[max(0, i - 3):i]) \
                and "from" in words[i + 1:i + 6] and not _routine(r, s):
            return i  # "you took $50 from my account"
        if w in _PASSIVE or w == "paid" or w in _CHARGE_WORDS:
            # charged for what the customer never ordered, took or received: "charged for a ride I never took"
            lo, hi = r.span(s)
            for j in range(i + 2, min(hi, i + 12)):
                if words[j] in _NOT_TAKEN and r.negated(j, 2):
                    return i
                if words[j] in ("after", "though", "although", "despite") and any(
                        x.startswith("cancel") for x in words[j + 1:j + 5]):
                    return i  # "charged my card after I cancelled", "a fee even though the driver cancelled"
        if w not in _PAYING and any(words[j] in _TROUBLE and r.word(j + 1) in ("with", "about", "regarding")
                                    and not r.negated(j) for j in range(max(0, i - 5), i)) and not _routine(r, s):
            return i  # "a problem with a cancellation fee", "an issue with my bill"
        if w in _PASSIVE and r.word(i - 1) in ("being", "been", "getting", "keep", "keeps", "kept", "still",
                                               "again", "continue", "continuing"):
            return i  # "I keep getting charged", "still being billed"
    return -1


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
            if w.endswith("ed") and r.word(i - 1) in ("been", "was", "were", "got", "be"):
                continue
            if r.word(i + 1) in ("was", "has", "is", "have") and r.word(i + 2) in ("issued", "processed",
                                                                                     "approved", "been", "sent"):
                continue
            if _routine(r, s) and not r.smask[s] & STRONG:
                continue
            return i
        if m & MONEY:
            if w in ("pay", "paying") and r.word(i + 1) in ("me", "us") and r.word(i + 2) == "back":
                return i  # "pay me back for the hotel"
            if w in _CASH:
                for j in range(i + 1, min(r.n, i + 4)):
                    if words[j] == "back" and not r.negated(i):
                        return i
                    if words[j] in CLAUSE_END:
                        break
            elif w.startswith("credit") and r.word(i + 1) not in ("card", "cards", "score", "report", "union"):
                if any(words[j] in _DEMAND for j in range(max(0, i - 4), i)) and not _routine(r, s):
                    return i
    return -1
