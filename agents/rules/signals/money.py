"""Money in dispute: a charge the customer contests, or money sought back that was not simply granted."""

from __future__ import annotations

from ticket_enricher.agents.rules import lexicons as L
from ticket_enricher.agents.rules.language import CLAUSE_END
from ticket_enricher.agents.rules.signals.reading import (
    _CASH,
    _CHARGE_WORDS,
    _CREDIT_NOT_MONEY,
    _NOT_TAKEN,
    _PASSIVE,
    _PAYING,
    BATTERY,
    MONEY,
    NEG,
    SEEK,
    STRONG,
    T_ENTRY,
    WEAK,
    Reading,
)
from ticket_enricher.agents.rules.signals.whose import _MAY, KIN, news

# after "double", what makes it a charge twice: "double charged", "double the price"; not "double protein"
_DOUBLE_WHAT = frozenset({"charged", "billed", "charge", "charging", "what", "the", "my", "our", "your", "for", "on",
                          "by", "again", "today", "this", "that", "it", "me", "us", "debited", "dipped", "swiped",
                          "taken", "payment", "transaction", "transactions", "debit", "amount", "price"})
_OPENING = frozenset({"quick", "question", "q", "hi", "hello", "hey", "so", "just", "um", "ok", "okay"})


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
        if w in ("does", "do", "will", "would") and all(
                words[k] in _OPENING or words[k].startswith("@") for k in range(lo, j)) and any(
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


_STRANGE = frozenset({"unrecognised", "unrecognized", "unfamiliar", "unknown", "unauthorised", "unauthorized",
                      "suspicious", "strange", "weird", "odd", "unusual", "fraudulent", "mysterious", "random",
                      "unexpected", "unidentified", "duplicate", "duplicated", "extra", "mystery"})
_DISOWNED = frozenset({"recognise", "recognize", "remember", "make", "made", "authorize", "authorise", "set",
                       "authorized", "authorised", "do", "did", "done", "know", "create", "created", "initiate",
                       "initiated", "approve", "approved", "request", "requested", "order", "ordered", "agree",
                       "agreed", "perform", "performed", "recall"})
_TIMES = frozenset({"twice", "double", "multiple", "several", "many", "two", "three", "again", "repeatedly"})
_SHORT = frozenset({"less", "short", "shorted", "fewer", "wrong", "incorrect", "partial", "half"})
_RECORDS = frozenset({"statement", "bill", "bills", "account", "invoice", "card", "receipt"})
_PASSIVE_MANY = frozenset({"charged", "billed", "debited", "deducted", "taken"})


_STATES = frozenset({"pending", "declined", "rejected", "reverted", "processing", "blocked", "through", "work",
                     "working", "accept", "accepted", "verify", "stuck"})
_MISDIRECTED = frozenset({"account", "number", "person", "recipient", "address", "details", "pin", "card", "iban",
                          "sort", "name", "beneficiary"})


def _not_disputing(r: Reading, j: int, s: int) -> bool:
    """The strong word at `j` disputes no charge: "why" in a question about a fee in general ("why do you charge
    for transfers?", no "I" nor "me"); "what's wrong"; the customer's own slip ("I made a mistake", "the wrong
    account number"); "still" or "again" about a payment's state ("still pending", "declined again")."""
    x, lo, hi = r.words[j], *r.span(s)
    sentence = r.words[lo:hi]
    if x == "why":
        return _FIRST.isdisjoint(sentence)
    if x == "wrong":
        return r.word(j - 1) in ("what's", "whats", "what", "something") or r.word(j + 1) in _MISDIRECTED
    if x in ("mistake", "error"):
        return r.word(j - 1) in ("a", "my") and r.word(j - 2) in ("made", "make", "my")
    if x in ("still", "again", "why", "reject", "rejected", "rejecting", "refuse", "refused", "denied", "wrong") and \
            not _STATES.isdisjoint(sentence):
        return True  # a payment's state: "why is it still pending", "my card keeps getting rejected"
    return _asks_price(r, s)


_AUX = frozenset({"do", "does", "would", "will", "is", "are", "can", "could", "how", "what", "if", "should", "am",
                  "whats", "what's", "any"})
_BILLED = frozenset({"charged", "billed", "took", "taken", "deducted", "debited", "paid"})


def _asks_price(r: Reading, s: int) -> bool:
    """A question whether something costs (extra): "would I need to pay extra?", "is there an extra fee to
    exchange currencies?", "how much extra will I be charged"; not "why was I charged twice?"."""
    lo, hi = r.span(s)
    words = r.words
    first = next((j for j in range(lo, hi) if not words[j].startswith("@") and words[j] not in ("hi", "hello",
                                                                                                 "hey", ",")), lo)
    if r.word(first) not in _AUX:
        return False
    return not any(w in _BILLED and r.word(j - 1) not in ("be", "i", "get", "getting") for j, w in
                   enumerate(words[lo:hi], lo))


def _own_slip(r: Reading, s: int) -> bool:
    """The customer's own mistake in sentence `s`: "sent it to the wrong account", "by mistake", "my mistake"."""
    lo, hi = r.span(s)
    words = r.words
    return any(w == "wrong" and r.word(j + 1) in _MISDIRECTED or w == "mistake" and r.word(j - 1) in ("by", "my")
               for j, w in enumerate(words[lo:hi], lo))


_FIRST = frozenset({"i", "me", "my", "we", "us", "our", "i've", "ive", "i'm", "im", "i'd"})


def _contested(r: Reading) -> int:
    """An entry of the statement the customer disowns or finds repeated: "a payment I don't recognise", "an
    unfamiliar direct debit", "a withdrawal that I did not make", "what is this charge?", "charged multiple times",
    "the transaction shows up twice"; or cash short at the machine: "the ATM gave me less than I asked for"."""
    if not r.mask & T_ENTRY:
        return -1
    words = r.words
    for i, m, s in r.hits:
        if not m & T_ENTRY:
            continue
        w = words[i]
        lo, hi = r.span(s)
        if w in L.ENTRIES:
            before = words[max(lo, i - 3):i]
            if not _STRANGE.isdisjoint(before) and not r.negated(i - 1, 3) and not (r.word(hi) == "?" and (
                    r.word(i - 2) == "any" or r.word(i - 1) == "extra" and _asks_price(r, s) and _RECORDS.isdisjoint(
                        words[lo:hi]))):
                return i  # not "any extra fee?", "is there an extra charge for a surfboard?": a question
            if "this" in before and any(x in ("what", "what's", "whats") for x in words[max(lo, i - 5):i]):
                return i  # "what is this charge?", "what is this $1 fee"
            if "same" in before and any(x in ("two", "2", "double", "multiple") for x in words[max(lo, i - 5):i]):
                return i  # "two of the same charges"
            for j in range(max(lo, i - 5), i):
                if words[j] in _DISOWNED and r.negated(j, 3) and words[j - 2:j - 1] != ["can"] and \
                        not _FIRST.isdisjoint(words[max(lo, j - 4):j]):
                    return i  # "I didn't make a payment that shows in my app"
            for j in range(i + 1, min(hi, i + 12)):
                x = words[j]
                if x in _DISOWNED and r.negated(j, 3) and any(y in ("i", "we", "i've", "ive") for y in
                                                               words[max(lo, j - 4):j]):
                    return i  # "a payment that I didn't make", "a transaction I don't recognise"
                if x in ("mine", "me") and r.negated(j, 2):
                    return i  # "this charge is not mine"
                if x == "times" and r.word(j - 1) in _TIMES or x in ("twice", "double"):
                    return i  # "the transaction shows up many times"
        elif w in _PASSIVE_MANY and not r.negated(i, 3) and r.word(i + 2) not in _CHARGED_UP and (
                r.word(i + 1) in _TIMES and r.word(i + 2) in ("times", "for", "") or any(
                    words[j] == "times" and words[j - 1] in _TIMES or words[j] == "twice"
                    for j in range(i + 1, min(hi, i + 7)))):
            return i  # "I was charged multiple times for one transaction", "charged for one thing two times"
        if w in L.ENTRIES or w in L.AT_MACHINE:
            for j in range(i + 1, hi):
                if words[j] in ("didn't", "didnt") and r.word(j - 1) in ("i", "but") and (
                        r.word(j + 1) == "" or r.word(j + 1) in CLAUSE_END):
                    return i  # "the app says I took out cash, but I didn't!"
        if w in L.AT_MACHINE:
            for j in range(lo, hi):
                x = words[j]
                if x in _SHORT and not r.negated(j, 2) and (x != "wrong" or r.word(j + 1) in (
                        "amount", "sum", "cash", "money")):
                    return i  # "the ATM gave me less than I requested", "gave me the wrong amount"
                if x in ("amount", "much", "all", "match", "matches", "right", "correct") and r.negated(j, 4) \
                        or x == "only" and r.word(j + 1) in ("received", "got", "gave", "came", "give", "get") \
                        or x == "more" and "than" in words[j + 1:j + 4] and "asked" in words[lo:j] \
                        or x == "only" and not {"requested", "asked", "selected", "wanted"}.isdisjoint(words[lo:hi]):
                    return i  # "it didn't give me as much as I requested", "only received 10"
    return -1


_SPANS = frozenset({"day", "week", "month", "year", "night", "weekend", "morning", "evening", "trip", "stay"})
_FALLING = frozenset({"down", "lower", "cheaper", "dropped", "dropping", "fell", "falling", "fall"})


# what gets charged that is no bill: "charged my phone twice today"
_CHARGED_UP = frozenset({"phone", "laptop", "car", "ev", "tablet", "watch", "airpods", "headphones", "kindle", "ipad",
                         "iphone", "battery", "batteries", "scooter", "bike", "camera", "earbuds"})
_GAME = frozenset({"win", "won", "lose", "lost", "beat", "game", "fans", "mafia", "play", "playoff", "playoffs"})


def billing_error(r: Reading) -> int:
    """A money word with a word of dispute: strong anywhere in its sentence ("charged twice", "why was I
    billed"), weak only close by ("charged more", "made me pay") and outside a routine question or thanks; or an
    entry of the statement the customer disowns (`_contested`)."""
    if (i := _contested(r)) >= 0:
        return i
    if not r.mask & MONEY or not r.mask & (STRONG | WEAK | NEG) and _TROUBLE.isdisjoint(r.words) and \
            _TAKEN.isdisjoint(r.words):
        return -1
    words = r.words
    for i, m, s in r.hits:
        if not m & MONEY or m & SEEK:
            continue
        w = words[i]
        if w in _CHARGE_WORDS and (r.smask[s] & BATTERY or r.word(i - 1) in ("in", "of", "free", "per", "full") or
                                   r.word(i + 1) in ("my", "the", "his", "her") and r.word(i + 2) in _CHARGED_UP):
            continue  # a battery's charge, a person in charge, free of charge, "charged my phone twice today"
        if w == "bills" and r.word(i + 1) in _GAME:
            continue  # "Bills win again!": the team
        if w.startswith("credit") and r.word(i + 1) in _CREDIT_NOT_MONEY or r.negated(i):
            continue  # a credit report or a credit card is no money of the customer's
        sm = r.smask[s]
        if r.word(i + 1) in ("myself", "ourselves") or w in _CHARGE_WORDS and not _MAY.isdisjoint(
                words[max(0, i - 2):i]) and _FIRST.isdisjoint(words[slice(*r.span(s))]):
            continue  # "overcharged myself on snacks", "they might charge for toilets again": no one's bill
        if _kins_money(r, s) or news(r, s) or _was_me(r, s):
            continue  # "my sister playing banker charges more fees than any bank", "price going up, per the email"
        if m & STRONG and w not in ("credit", "credits"):
            return i  # a money word that disputes by itself: "you overcharged me", "overbilled again"
        if w in ("price", "prices") and r.word(i - 1) == "full" and r.in_sentence(i, _DISCOUNTS):
            return i  # "the promo code didn't apply and I was charged full price"
        if (w in _CHARGE_WORDS or w in _PASSIVE) and _no_reason(r, s):
            return i  # "charged a late fee for no reason"
        if sm & STRONG:
            j = r.near(i, STRONG, 10, 10)
            if j >= 0 and not _not_disputing(r, j, s):
                x = words[j]
                if x == "steal" and r.word(j - 1) == "a":
                    continue  # "the sale price is a steal": a bargain
                if x == "double" and r.word(j + 1).isalpha() and not r.cls(j + 1) & (MONEY | T_ENTRY) and r.word(
                        j + 1) not in _DOUBLE_WHAT or x in ("double", "doubled", "twice") and any(
                        words[k] in ("sold", "sell", "selling") for k in range(*r.span(s))):
                    continue  # "double protein for the same price", "sold my guitar for double what I paid"
                if x == "extra" and (r.word(j - 1) == "any" and "?" in words[j:r.span(s)[1] + 1] or r.word(
                        j - 1) == "no"):
                    continue  # "any extra fee?": a question; "at no extra charge"
                soft = x in ("still", "again", "never", "without", "why")
                if soft and not _GOOD_VALUE.isdisjoint(words[slice(*r.span(s))]):
                    continue  # "still cheaper than anywhere else", "the Game Pass price is still a steal"
                if not (soft and (_routine(r, s) or not _FALLING.isdisjoint(words[i + 1:i + 3]))) and not (
                        x == "why" and w.startswith("pay")):
                    return i  # not "petrol prices down again": a price that falls is no grievance
        if sm & WEAK:
            j = r.near(i, WEAK, 3, 3)
            if j >= 0 and words[j] == "up" and r.word(j - 1).startswith(("top", "set", "fill")) or \
                    j >= 0 and words[j] == "whole" and r.word(j + 1) in _SPANS:
                j = -1  # "top up", "set up a direct debit": putting money in; "for the whole day" is a span of time
            if j >= 0 and (words[j] == "up" and r.word(j - 1) in ("gone", "go", "went", "goes", "going") or words[
                    j] in ("increased", "risen", "rose", "raised")) and r.negated(j, 3):
                j = -1  # "my bill hasn't gone up in two years"; not "a discount that never showed up on my bill"
            if j >= 0 and words[j] in ("made", "make", "making") and r.word(j + 1) not in ("me", "us"):
                j = -1  # "I made a payment" is the customer paying; "made me pay" is not
            if j >= 0 and (words[j] == "than" and r.word(j - 1) in ("less", "cheaper", "lower", "fewer", "smaller",
                                                                     "better") or not _FALLING.isdisjoint(
                    words[i + 1:i + 4])):
                j = -1  # "£30 less than with the old supplier", "fees cheaper than a coffee", "my bill went down"
            if j >= 0 and not _routine(r, s) and not (words[j] == "back" and w not in _CASH) and not (
                    w in _PAYING and words[j] not in ("made", "make", "making", "force", "forced", "back")):
                return i  # "charged more", "price went up", "made me pay"; not "late with my payment for more"
        if r.text.compound <= -0.5 and w not in ("pay", "payment", "payments", "paying", "credit") and \
                not _routine(r, s) and not _own_slip(r, s):
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


_GOOD_VALUE = frozenset({"cheaper", "cheapest", "steal", "worth", "saves", "save", "bargain", "value", "deal", "love",
                         "free", "great"})
_SELF = frozenset({"me", "us", "i", "we", "i'm", "i've"})
def _was_me(r: Reading, s: int) -> bool:
    """ "a fraud alert for a $400 charge that was actually me": the customer owns the charge."""
    lo, hi = r.span(s)
    words = r.words
    return any(w in ("me", "mine") and words[j - 1] in ("was", "actually", "were") and not r.negated(j, 3)
               for j, w in enumerate(words[lo + 1:hi], lo + 1))


def _kins_money(r: Reading, s: int) -> bool:
    """Whether sentence `s` is about someone else's money: a person ("my sister", "my brother") opens it and no first
    person is its object ("my brother paid for my spotify twice by accident")."""
    lo, hi = r.span(s)
    words = r.words
    while lo < hi and words[lo].startswith("@"):
        lo += 1  # "@Zelle @Venmo my friends paying me back"
    if KIN.isdisjoint(words[lo:lo + 4]) or r.word(lo) in ("i", "we"):
        return False
    return _SELF.isdisjoint(words[lo:hi]) or "back" in words[lo:hi]  # also "my friends paying me back"
