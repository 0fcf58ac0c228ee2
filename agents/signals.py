"""Deterministic reading of customer text: which signals it carries, and the words that showed each.

Written for how customers write to support desks, consumer and business alike (tweets, chats, emails), from
the tags' definitions rather than from any data set's phrasing. Each signal is words of a few classes
(`agents.lexicons`) meeting in one sentence, or a few words apart, in the customer's own context:

- a dispute: a money word (charge, bill, fee, price, paid, $...) with a word of dispute (wrong, twice, extra,
  why, never...), or money sought back (refund, reimburse, compensation, "my money back") that was not simply
  granted nor asked about routinely ("how long does a refund take");
- an outage: a service (internet, app, site, signal, network...) with a state of failure (down, error, not
  loading, can't connect...), unless a device is what fails (a bug, not an outage); a lockout (account, card
  or payment with locked, declined, suspended...); a disrupted trip (flight, train, ride with delayed,
  cancelled, stuck...); failed deliveries and lost data are their own signals;
- leaving: a verb of ending with what the customer holds ("close my account"), "never ... again", "won't
  renew", "lost me as a customer", "done with you", switching to someone else, legal threats;
- persistence (repeats counted in numbers, "still", "again"), no answer, and the mood: words against the
  company, distress, expletives, capitals and "!!" in a negative message, VADER's sentiment.

The text is read once (`agents.language`): words looked up in one dict of word classes, negation within a
clause ("not looking for a refund", "never had a problem") cancels what it governs.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable
from functools import lru_cache
from typing import Literal

from agents import lexicons as L
from agents.language import CLAUSE_END, NEGATORS, SENTENCE_END, Text, read_text, scored_words

Signal = Literal[
    "outage", "lockout", "trip_disrupted", "delivery_failure", "data_loss", "billing_error", "security",
    "escalation_cancel", "escalation_refund", "escalation_switch", "escalation_legal", "repeat_contact",
    "unresolved", "hostility", "anger", "frustration", "satisfied",
]

FAILURE: frozenset[str] = frozenset(
    {"outage", "lockout", "trip_disrupted", "delivery_failure", "data_loss", "billing_error", "security"})
ONE_OFF: frozenset[str] = frozenset({"outage", "lockout"})  # serious only when unresolved (see agents.rules)
LEAVE: frozenset[str] = frozenset({"escalation_cancel", "escalation_switch"})
ESCALATION: frozenset[str] = frozenset(
    {"escalation_cancel", "escalation_refund", "escalation_switch", "escalation_legal", "repeat_contact"})
PRESSURE: frozenset[str] = frozenset({"repeat_contact", "unresolved", "hostility", "anger", "frustration"})
NEGATIVE: frozenset[str] = FAILURE | ESCALATION | PRESSURE

# word classes, one bit each
_NAMES = ("MONEY", "SEEK", "STRONG", "WEAK", "ROUTINE", "BATTERY", "SERVICE", "DEVICE", "DOWN", "WORKS", "ACCESS",
          "CANNOT", "ACCOUNT", "BLOCKED", "TRIP", "TRIP_BAD", "GOODS", "GOODS_BAD", "ARRIVE", "DATA", "GONE", "END",
          "HELD", "ONE_OFF", "NEVER_AGAIN", "SWITCH", "RIVAL", "PROVIDER", "LAW", "THREAT", "NUMBER", "ORDINAL",
          "CONTACTS", "STILL", "STILL_BAD", "ANSWER", "NOBODY", "UNRESOLVED", "CONDEMN", "DISTRESS", "MILD",
          "THANKS", "RESOLVED", "NEG", "ME", "STOP", "ADJUST", "T_CANCEL", "T_SWITCH", "T_REPEAT", "T_UNRESOLVED",
          "T_SECURITY", "T_OTHER", "T_LOCK", "T_OUTAGE")
(MONEY, SEEK, STRONG, WEAK, ROUTINE, BATTERY, SERVICE, DEVICE, DOWN, WORKS, ACCESS, CANNOT, ACCOUNT, BLOCKED, TRIP,
 TRIP_BAD, GOODS, GOODS_BAD, ARRIVE, DATA, GONE, END, HELD, ONE_OFF_, NEVER_AGAIN, SWITCH, RIVAL, PROVIDER, LAW,
 THREAT, NUMBER, ORDINAL, CONTACTS, STILL, STILL_BAD, ANSWER, NOBODY, UNRESOLVED, CONDEMN, DISTRESS, MILD, THANKS,
 RESOLVED, NEG, ME, STOP, ADJUST, T_CANCEL, T_SWITCH, T_REPEAT, T_UNRESOLVED, T_SECURITY,
 T_OTHER, T_LOCK, T_OUTAGE) = (1 << i for i in range(len(_NAMES)))
# classes that detectors only look up around a word they start from: a word with no other class is not kept
# among a text's classed words (fewer to walk through: "to", "my", "a")
_LOOKUP_ONLY = (ROUTINE | ARRIVE | HELD | ONE_OFF_ | NEVER_AGAIN | PROVIDER | THREAT | CONTACTS | STILL | STILL_BAD
                | ANSWER | ACCESS | BLOCKED | ME | RIVAL | GOODS_BAD)
_KEEP = ~_LOOKUP_ONLY
_ME = {"i", "i'm", "im", "i've", "ive", "i'd", "i'll", "me", "my", "we", "we're", "we've", "we'd", "we'll", "us",
       "our", "mine", "ours", "myself"}
_CLASS: dict[str, int] = {}
for _bit, _words in (
    (MONEY, L.MONEY), (SEEK, L.SEEK), (STRONG, L.DISPUTE_STRONG), (WEAK, L.DISPUTE_WEAK), (ROUTINE, L.ROUTINE),
    (BATTERY, L.BATTERY), (SERVICE, L.SERVICE), (DEVICE, L.DEVICE), (DOWN, L.DOWN), (WORKS, L.WORKS),
    (ACCESS, L.ACCESS), (CANNOT, L.CANNOT), (ACCOUNT, L.ACCOUNT), (BLOCKED, L.BLOCKED), (TRIP, L.TRIP),
    (TRIP_BAD, L.TRIP_BAD), (GOODS, L.GOODS), (GOODS_BAD, L.GOODS_BAD), (ARRIVE, L.ARRIVE), (DATA, L.DATA),
    (GONE, L.GONE), (END, L.END), (HELD, L.HELD), (ONE_OFF_, L.ONE_OFF), (NEVER_AGAIN, L.NEVER_AGAIN),
    (SWITCH, L.SWITCH), (RIVAL, L.RIVAL), (PROVIDER, L.PROVIDER), (LAW, L.LAW), (THREAT, L.THREAT),
    (NUMBER, L.NUMBER), (ORDINAL, L.ORDINAL), (CONTACTS, L.CONTACTS), (STILL, L.STILL), (STILL_BAD, L.STILL_BAD),
    (ANSWER, L.ANSWER), (NOBODY, L.NOBODY), (UNRESOLVED, L.UNRESOLVED), (CONDEMN, L.CONDEMN),
    (DISTRESS, L.DISTRESS), (MILD, L.MILD), (THANKS, L.THANKS), (RESOLVED, L.RESOLVED), (NEG, NEGATORS),
    (ME, _ME), (STOP, SENTENCE_END), (ADJUST, {"service", "services", "code", "codes"}),
    # the words each detector's checks start from (so that a detector looks only at its own words)
    (T_CANCEL, L.END | {"never", "won't", "wont", "not", "longer", "lost", "lose", "losing", "loose", "done",
                        "elsewhere", "else", "from", "goodbye", "bye", "unsubscribe", "unsubscribed",
                        "unsubscribing", "stop", "stopped", "stopping", "quit", "quitting", "worth", "waste",
                        "recommend", "regret", "regretting", "regrets", "mistake", "away", "avoid", "last", "give",
                        "giving", "gave", "nunca", "jamas", "jamais", "boycott", "boycotting", "boycotted"}),
    (T_SWITCH, L.SWITCH | {"new", "another", "different", "better", "other", "considering", "thinking", "might",
                           "tempted", "planning", "ready", "time", "about", "wish", "should", "should've",
                           "shoulda", "shouldve", "competitor", "competitors", "instead"}),
    (T_REPEAT, L.NUMBER | L.ORDINAL | {str(k) for k in range(1, 1000)} | {
        "again", "over", "time", "every", "all", "constantly", "repeatedly", "continually", "everyday",
        "continuously", "keeps", "keep", "kept", "still", "same", "how"}),
    (T_UNRESOLVED, {"no", "zero", "without", "no-one", "noone", "one", "hold", "hung", "waiting", "denied",
                    "refused", "rejected", "declined", "refuse", "refusing", "refuses", "deny", "denies", "denying",
                    "reject", "rejects", "entitled", "waste", "avail", "helpful"} | L.NOBODY | NEGATORS
     | L.UNRESOLVED),
    (T_OTHER, {"board", "boarded", "boarding", "shame"}),
    (T_LOCK, {"locked", "logged", "lock", "locking", "logging", "kicked", "one"}),
    (T_OUTAGE, {"no", "zero", "outage", "outages", "offline", "down", "trouble", "problems", "issues", "problem",
                "issue", "difficulty", "difficulties"}),
):
    for _w in _words:
        _CLASS[_w] = _CLASS.get(_w, 0) | _bit
_CLASS_GET = _CLASS.get
_BE = frozenset({"is", "are", "was", "were", "been", "be", "being", "went", "goes", "going", "gone", "still",
                 "it's", "its", "they're", "currently", "keeps", "keep", "again", "all", "totally", "completely",
                 "now", "always", "constantly", "just", "so", "back"})
_NOT_DOWN_AFTER = frozenset({"to", "the", "for", "with", "by", "in", "there", "here", "on", "payment", "a", "my",
                             "your", "that", "from", "at", "of", "and", "street", "road", "stairs", "me",
                             "him", "her", "them", "us", "you", "it", "into", "low", "under", "side"})
_GRANTED = frozenset({"got", "received", "getting", "issued", "processed", "gave", "given", "approved", "already",
                      "receive", "get", "sent", "been", "was", "were", "be"})
_WANT = frozenset({"want", "wanting", "need", "needing", "looking", "look", "asking", "ask", "seeking", "expect",
                   "expecting", "after", "interested", "require", "requesting", "demanding"})
_DEMAND = frozenset({"want", "need", "expect", "deserve", "owed", "owe", "demand", "request", "requesting", "asking",
                     "being", "be", "see", "get", "give", "issue", "apply", "receive"})
_CHARGE_WORDS = frozenset(w for w in L.MONEY if w.startswith(("charg", "overcharg", "surcharg")))
_CASH = frozenset({"money", "$", "\u00a3", "\u20ac", "cash", "funds", "dollars", "bucks", "euros", "quid", "deposit",
                   "payment", "fare"})
_NOT_TAKEN = L.forms("order", "authorize", "authorise", "subscribe", "request", "receive", "use", "book",
                     "purchase", "agree", "consent", "approve") | {"took", "take", "got", "get", "bought", "buy",
                                                                  "signed", "made", "make"}
_PAYING = frozenset({"pay", "pays", "paying", "paid", "payment", "payments", "money", "funds", "cash", "credit",
                     "credits", "deposit", "deposits", "repay", "repaying", "repayment", "prepaid", "prepay"})
_CREDIT_NOT_MONEY = frozenset({"report", "reports", "score", "scores", "card", "cards", "history", "file", "files",
                               "bureau", "bureaus", "limit", "union", "check", "checks", "rating", "line", "lines",
                               "agency", "agencies", "reporting", "monitoring", "profile", "application"})
_PASSIVE = frozenset({"charged", "billed", "debited", "deducted", "invoiced", "overcharged"})
_EMPTY = frozenset({"my", "our", "the", "your", "this", "that", "all", "of", "entire", "whole", "a", "an", "their",
                    "his", "her", "these", "those", "its", "it's", "current", "existing", "family", "joint"})


# what goes down without anything being broken: "my score went down", "prices are down"
_QUANTITY = frozenset({"score", "scores", "price", "prices", "rate", "rates", "balance", "value", "stock", "stocks",
                       "sales", "numbers", "number", "ratings", "rating", "temperature", "amount", "cost", "costs",
                       "bill", "payment", "payments", "interest", "volume", "weight", "percentage", "shares"})
_CREDENTIALS = frozenset({"password", "pin", "code", "otp", "2fa", "verification", "login", "id", "card", "cards"})
_NOT_A_SERVICE = frozenset({"customer", "client", "guest", "room", "table", "member"})


class Reading:
    """One text's words with their classes: the classed words in order, and each sentence's classes."""

    __slots__ = ("text", "words", "n", "hits", "ends", "smask", "mask", "hashtags")

    def __init__(self, text: Text) -> None:
        self.text = text
        self.words = words = text.words
        self.n = len(words)
        ends: list[int] = []
        smask = [0]
        hits = []
        scored = []
        mask = s = 0
        get, keep, stop, adjust = _WORD_GET, _KEEP, STOP, ADJUST
        for i, (m, v) in [(i, e) for i, w in enumerate(words) if (e := get(w)) is not None]:
            if v is not None:
                scored.append((i, v))
            if not m & keep:
                continue
            if m & stop:
                ends.append(i)
                smask.append(0)
                s += 1
                continue
            if m & adjust and i:
                if m & SERVICE and words[i - 1] in _NOT_A_SERVICE:
                    m &= ~SERVICE  # customer service is people, not a service that can be down
                elif m & DEVICE and words[i - 1] == "error":
                    m &= ~DEVICE  # an error code is a service failing; a promo code is not a service
            hits.append((i, m, s))
            smask[s] |= m
            mask |= m
        self.hits, self.smask, self.mask, self.ends = hits, smask, mask, ends
        text.sentiment(scored)
        self.hashtags = [i for i, w in enumerate(words) if w[0] == "#"] if "#" in text.lower else []

    def cls(self, j: int) -> int:
        return _CLASS_GET(self.words[j], 0) if 0 <= j < self.n else 0

    def span(self, s: int) -> tuple[int, int]:
        """The word range of sentence `s`."""
        ends = self.ends
        return (ends[s - 1] + 1 if s > 0 else 0), (ends[s] if s < len(ends) else self.n)

    def near(self, i: int, bits: int, before: int, after: int) -> int:
        """The nearest word with one of `bits` within `before`/`after` words of `i`, in its clause; -1 if none."""
        words = self.words
        for d in range(1, max(before, after) + 1):
            if d <= before:
                j = i - d
                if j >= 0 and words[j] not in CLAUSE_END and _CLASS_GET(words[j], 0) & bits:
                    if not any(words[k] in CLAUSE_END for k in range(j + 1, i)):
                        return j
            if d <= after:
                j = i + d
                if j < self.n and _CLASS_GET(words[j], 0) & bits:
                    if not any(words[k] in CLAUSE_END for k in range(i + 1, j + 1)):
                        return j
        return -1

    def next_content(self, i: int, skip: frozenset[str] = _EMPTY, limit: int = 3) -> int:
        """The first word after `i` that is not a determiner or possessive (`skip`), within `limit` words."""
        words = self.words
        for j in range(i + 1, min(self.n, i + 1 + limit)):
            if words[j] not in skip:
                return j
        return -1

    def word(self, j: int) -> str:
        return self.words[j] if 0 <= j < self.n else ""

    def negated(self, i: int, span: int = 3) -> bool:
        return self.text.negated(i, span)

    def in_sentence(self, i: int, words: frozenset[str] | set[str]) -> bool:
        lo, hi = self.span(bisect_right(self.ends, i) if self.ends else 0)
        return any(self.words[j] in words for j in range(lo, hi))


Detector = Callable[[Reading], int]  # the index of the word that shows the signal, or -1


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
        if w in ("status", "track", "tracking", "eta", "thanks", "thank", "thx", "appreciate"):
            return True
    return False


def billing_error(r: Reading) -> int:
    """A money word with a word of dispute: strong anywhere in its sentence ("charged twice", "why was I
    billed"), weak only close by ("charged more", "made me pay") and outside a routine question or thanks."""
    if not r.mask & MONEY or not r.mask & (STRONG | WEAK | NEG):
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
        if w in _PASSIVE or w == "paid":
            # charged for what the customer never ordered, took or received: "charged for a ride I never took"
            lo, hi = r.span(s)
            for j in range(i + 2, min(hi, i + 12)):
                if words[j] in _NOT_TAKEN and r.negated(j, 2):
                    return i
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
            if before & _GRANTED and not before & _WANT and not r.smask[s] & STRONG:
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
            if w in _CASH:
                for j in range(i + 1, min(r.n, i + 4)):
                    if words[j] == "back" and not r.negated(i):
                        return i
                    if words[j] in CLAUSE_END:
                        break
            elif w.startswith("credit") and not r.word(i + 1) in ("card", "cards", "score", "report", "union"):
                if any(words[j] in _DEMAND for j in range(max(0, i - 4), i)) and not _routine(r, s):
                    return i
    return -1


def _device_fails(r: Reading, i: int, s: int) -> bool:
    """Whether a device or a code, not a service, is what fails around word `i`: the sentence names a device
    and no service, or the device is the nearer of the two."""
    sm = r.smask[s]
    if not sm & DEVICE:
        return False
    if not sm & SERVICE:
        return True
    d, v = r.near(i, DEVICE, 6, 3), r.near(i, SERVICE, 6, 3)
    return d >= 0 and (v < 0 or abs(d - i) < abs(v - i))


def _has_service(r: Reading, s: int) -> bool:
    """A service named in the sentence, or, when the sentence names nothing, in the sentence before it with no
    device ("My internet is so slow. It keeps dropping.")."""
    sm = r.smask[s]
    if sm & SERVICE:
        return True
    return s > 0 and not sm & DEVICE and bool(r.smask[s - 1] & SERVICE) and not r.smask[s - 1] & DEVICE


_OUTAGE_STARTS = DOWN | WORKS | CANNOT | GONE | T_OUTAGE


def outage(r: Reading) -> int:
    """A service down or unusable: "outage", "no internet", "site is down", "app not loading", "can't connect",
    a service with an error, lag or crash; not a device ("my keyboard is not working")."""
    if not r.mask & (DOWN | WORKS | CANNOT | SERVICE):
        return -1
    words = r.words
    for i, m, s in r.hits:
        if not m & _OUTAGE_STARTS:
            continue
        w = words[i]
        if w in ("outage", "outages", "offline") and not r.negated(i):
            return i
        if w == "no" or w == "zero":
            j = r.next_content(i, _EMPTY | {"phone", "mobile", "cell", "home", "more"}, 3)
            if j >= 0 and r.cls(j) & SERVICE and words[j] not in ("one", "live", "chat", "game", "games", "page",
                                                                    "apps", "app", "email", "emails", "system",
                                                                    "orders", "texts", "calls", "video", "videos"):
                return i
            continue
        if w == "down":
            nxt = r.word(i + 1)
            if nxt[:1].isdigit() or r.negated(i) or nxt in ("payment", "to", "the", "with", "by", "from", "here",
                                                             "there", "into", "a", "my", "your", "and"):
                continue
            if (r.near(i, SERVICE, 4, 0) >= 0 or r.word(i - 1) in _BE and nxt not in _NOT_DOWN_AFTER and not any(
                    words[j] in _QUANTITY for j in range(max(0, i - 4), i))) and not _device_fails(r, i, s):
                return i  # "the app is down", "servers down for everyone", "is it down?"
            continue
        if m & DOWN and not m & (MONEY | GOODS_BAD):
            if r.negated(i) or w in ("drop", "drops", "dropped", "dropping") and not r.smask[s] & SERVICE or \
                    w.startswith("fail") and r.word(i + 1) == "to":
                continue  # "failed to verify" is someone not doing their job, not a service down
            if _has_service(r, s) and not _device_fails(r, i, s):
                return i
            continue
        if m & WORKS and (r.negated(i, 2) or r.word(i - 1) in ("stopped", "stops", "keeps", "kept")) \
                and w not in ("go", "goes", "going", "come", "comes", "coming", "show", "shows", "showing"):
            if _has_service(r, s) and not _device_fails(r, i, s):
                return i
            continue
        if m & GONE and w.startswith(("los", "lost", "drop")):
            j = r.next_content(i, _EMPTY | {"internet", "network", "phone", "wifi", "data", "game", "server"}, 3)
            if j >= 0 and words[j] in ("connection", "signal", "service", "internet", "wifi", "network", "data",
                                       "reception", "coverage", "power", "connectivity"):
                return i
        if w in ("trouble", "problems", "issues", "problem", "issue", "difficulty", "difficulties") and \
                r.word(i + 1) in ("connecting", "accessing", "loading", "streaming") and not _device_fails(r, i, s):
            return i
        if m & CANNOT and w not in ("problem", "problems", "issue", "issues", "not"):
            for j in range(i + 1, min(r.n, i + 4)):
                x = words[j]
                if x in ("to", "let", "me", "us", "even", "seem", "get", "being", "able"):
                    if x != "get" or r.word(j + 1) not in ("on", "online", "onto", "in", "into", "connected"):
                        continue
                c = _CLASS_GET(x, 0)
                if c & ACCESS:
                    if x.startswith(("connect", "load", "stream", "brows", "download", "upload")) or x == "get":
                        if not _device_fails(r, j, s):
                            return i
                    elif r.smask[s] & SERVICE and not _device_fails(r, j, s):
                        return i
                break
    return -1


def lockout(r: Reading) -> int:
    """Locked out of an account, or an account, card or payment refused: "locked out", "can't log in",
    "account suspended", "card declined", "password says incorrect", "funds on hold"."""
    if not r.mask & (ACCOUNT | CANNOT | NOBODY | T_LOCK):
        return -1
    words = r.words
    for i, m, s in r.hits:
        if not m & (ACCOUNT | CANNOT | NOBODY | T_LOCK):
            continue
        w = words[i]
        if w in ("locked", "logged", "lock", "locking", "logging", "kicked") and r.word(i + 1) in ("out", "me", "us"):
            if r.word(i + 1) == "out" or r.word(i + 2) == "out":
                if not r.negated(i):
                    return i
        if m & CANNOT or m & NOBODY or w == "one" and r.word(i - 1) == "no":
            for j in range(i + 1, min(r.n, i + 4)):
                x = words[j]
                if x in ("to", "let", "me", "us", "even", "seem", "able", "get", "into", "my", "the", "can",
                         "could", "is", "was", "are", "be", "allow", "allowing", "letting", "allowed"):
                    continue
                if x in ("log", "login", "sign", "signin", "logon", "access", "logging", "signing"):
                    if not (r.smask[s] & DEVICE and not r.smask[s] & (SERVICE | ACCOUNT)):
                        return i
                break
        if m & ACCOUNT and not r.in_sentence(i, {"promo", "coupon", "voucher", "discount", "gift", "promotion"}):
            j = r.near(i, BLOCKED, 5, 8)
            if j >= 0 and not r.negated(j) and not r.negated(i):
                x = words[j]
                if x in ("incorrect", "invalid", "expired", "block") and words[i] not in _CREDENTIALS:
                    continue  # "incorrect information on my account" is a dispute; "password incorrect" a lockout
                if x in ("hold", "limit", "limits", "flag", "flags", "ban") and r.word(j - 1) not in (
                        "on", "a", "placed", "put"):
                    continue
                if x == "pending" and not words[i] in ("funds", "money", "payment", "payments", "transaction",
                                                       "balance", "card"):
                    continue
                return i
    return -1


def trip_disrupted(r: Reading) -> int:
    """A trip delayed, cancelled or stuck: "flight delayed", "train cancelled", "stuck on the tarmac", "ride
    cancelled on me"; not one the customer cancelled ("I cancelled the ride")."""
    if not r.mask & TRIP:
        return -1
    words = r.words
    for i, m, _ in r.hits if r.mask & T_OTHER else ():
        w = words[i]
        if w in ("board", "boarded", "boarding") and r.negated(i, 3) and r.word(i - 1) not in ("the", "a", "your"):
            return i  # not boarded: "they didn't board us", "wouldn't let us board"
    if not r.mask & TRIP_BAD:
        return -1
    for i, m, s in r.hits:
        if not m & TRIP_BAD or not r.smask[s] & TRIP:
            continue
        w = words[i]
        if r.negated(i) or r.near(i, TRIP, 8, 8) < 0:
            continue
        if w.startswith("cancel") or w in ("miss", "missed", "missing"):
            before = {words[j] for j in range(max(0, i - 3), i)}
            if before & {"i", "we", "i've", "we've", "i'd", "we'd", "to", "i'll", "we'll", "please", "me",
                         "can", "could", "should", "want", "how"}:
                continue
        if w == "late" and r.word(i + 1) in ("night", "notice", "fee", "fees", "payment", "checkout"):
            continue
        j = r.near(i, TRIP, 8, 8)
        lo, hi = r.span(s)
        if words[j].endswith("s") and not any(words[k] in _ME for k in range(lo, hi)):
            continue  # "flights have been cancelled": news, not the customer's trip
        return i
    return -1


def delivery_failure(r: Reading) -> int:
    """Goods lost, missing, late, wrong or damaged, or never arrived: "my parcel never arrived", "lost my bags",
    "order was wrong", "where is my package"."""
    if not r.mask & GOODS:
        return -1
    words = r.words
    for i, m, s in r.hits:
        if not m & GOODS:
            continue
        j = r.near(i, GOODS_BAD, 4, 5)
        if j >= 0 and not r.negated(j) and not (words[j] == "never" and not r.cls(j + 1) & ARRIVE):
            return i
        lo, hi = max(0, i - 6), min(r.n, i + 8)
        for j in range(lo, hi):
            if words[j] in SENTENCE_END and j > i:
                break
            if _CLASS_GET(words[j], 0) & ARRIVE and (r.negated(j, 4) or r.word(j - 1) in ("yet", "never")):
                return i
        if r.word(i - 2) == "where" or r.word(i - 3) == "where" and r.word(i - 2) in ("is", "'s", "are"):
            return i
    return -1


def data_loss(r: Reading) -> int:
    """Data gone: "lost all my photos", "files deleted", "save data wiped", "the sync drops records"."""
    if not r.mask & DATA or not r.mask & GONE:
        return -1
    for i, m, s in r.hits:
        if m & DATA and r.word(i + 1) not in ("connection", "signal", "service", "plan", "speed", "speeds"):
            j = r.near(i, GONE, 4, 4)
            if j >= 0 and not r.negated(j):
                return i
    return -1


_SECURITY_ALONE = frozenset({"hacked", "hacker", "hackers", "hacking", "compromised", "breach", "breached",
                             "phishing", "fraudulent", "fraudster", "fraudsters", "malware", "ransomware", "spoofed",
                             "skimmed", "skimming", "spyware", "keylogger"})
_SECURITY_PAIRS = {
    "identity": {"theft", "stolen", "fraud"}, "stolen": {"card", "identity", "details", "account", "data",
                                                         "information", "info", "password", "credentials"},
    "unauthorized": {"access", "login", "log", "sign", "use", "activity", "transaction", "transactions",
                     "purchase", "purchases", "charges", "charge", "payment", "payments", "logins"},
    "suspicious": {"login", "logins", "activity", "email", "emails", "text", "texts", "call", "calls", "charge",
                   "transaction", "transactions", "link", "message", "messages", "sign"},
    "security": {"issue", "issues", "breach", "problem", "problems", "concern", "concerns", "flaw", "hole",
                 "incident", "risk", "threat", "alert"},
    "scam": {"call", "calls", "email", "emails", "text", "texts", "message", "messages", "link", "site"},
    "fraud": {"alert", "alerts", "department", "claim", "charges", "charge", "on"},
    "leaked": {"data", "details", "information", "password", "passwords", "email"},
    "someone": {"logged", "accessed", "used", "hacked"},
}
_SECURITY_PAIRS["unauthorised"] = _SECURITY_PAIRS["unauthorized"]
for _w in _SECURITY_ALONE | set(_SECURITY_PAIRS):
    _CLASS[_w] = _CLASS.get(_w, 0) | T_SECURITY
# each word's classes and VADER's valence, so that one look-up per word serves both
_WORD: dict[str, tuple[int, float | None]] = {w: (m, None) for w, m in _CLASS.items()}
for _w, _v in scored_words().items():
    _WORD[_w] = (_CLASS.get(_w, 0), _v)
_WORD_GET = _WORD.get


def security(r: Reading) -> int:
    """A security problem: hacked, compromised, phishing, fraud, identity theft, unauthorized access,
    suspicious log-ins."""
    if not r.mask & T_SECURITY:
        return -1
    words = r.words
    for i, m, _ in r.hits:
        if not m & T_SECURITY:
            continue
        w = words[i]
        if w in _SECURITY_ALONE:
            if not r.negated(i):
                return i
        else:
            pair = _SECURITY_PAIRS.get(w)
            if pair is not None and (r.word(i + 1) in pair or r.word(i + 2) in pair or r.word(i - 1) in pair) \
                    and not r.negated(i):
                return i
    return -1


def escalation_legal(r: Reading) -> int:
    """A legal threat, not a mention: "my lawyer", "I will sue", "see you in court", "report you to the FCC"."""
    if not r.mask & LAW:
        return -1
    words = r.words
    for i, m, s in r.hits:
        if not m & LAW:
            continue
        w = words[i]
        if w == "legal" and r.word(i + 1) not in ("action", "team", "department", "advice", "counsel", "route",
                                                  "proceedings", "aid", "help", "steps", "options"):
            continue
        if w == "court" and r.word(i - 1) in ("food",):
            continue
        if r.negated(i, 4):
            continue
        if w in ("sue", "suing") or r.near(i, THREAT, 4, 0) >= 0:
            return i
    return -1


_NOT_THE_CUSTOMER = frozenset({"you", "they", "you've", "they've", "you'd", "was", "were", "been", "got", "he",
                               "she", "it", "it's", "driver", "not", "didn't", "u", "ya", "y'all", "is", "being"})
# what a verb of ending ends when the customer leaves, per verb ("port my number", "delete the app")
_ENDS_WITH = {"number": ("port",), "app": ("delet", "uninstall", "remov"), "phone": ("cancel",),
              "everything": ("cancel", "clos", "terminat"), "all": ("cancel", "clos", "terminat")}
_FIRST_FUTURE = frozenset({"i'm", "im", "we're", "am", "are", "will", "i'll", "we'll", "gonna", "shall"})
_UNTIL = frozenset({"", "now", "today", "tomorrow", "asap", "soon", "at", "by", "on", "in", "next", "this",
                    "effective", "from", "when", "if", "unless", "once", "after", "first", "immediately"})


_INTENT = frozenset({"want", "wanted", "wanna", "need", "needed", "trying", "tried", "try", "going", "gonna", "have",
                     "had", "time", "ready", "about", "will", "like", "wish", "plan", "planning", "decided", "please",
                     "how", "can", "could", "would", "should", "must", "asked", "asking", "request", "requested",
                     "able", "going", "thinking", "considering", "just"}) | _ME
_BASE_END = frozenset({"cancel", "close", "terminate", "end", "delete", "deactivate", "stop", "unsubscribe",
                       "uninstall", "discontinue", "drop", "port", "quit"})


def _own_act(r: Reading, i: int) -> bool:
    """Whether the verb of ending at `i` is the customer's own act: a first person or a word of intent within
    four words before ("I want to cancel", "how do I close", "please cancel"), or an imperative opening a
    sentence ("Cancel my account.")."""
    words = r.words
    for j in range(i - 1, max(-1, i - 5), -1):
        w = words[j]
        if w in SENTENCE_END:
            break
        if w in _INTENT:
            return True
    return (i == 0 or words[i - 1] in SENTENCE_END or words[i - 1].startswith("@")) and words[i] in _BASE_END


def escalation_cancel(r: Reading) -> int:
    """Leaving in everyday words: "cancel my account", "close our contract", "I'm cancelling", "never ordering
    again", "won't renew", "lost me as a customer", "done with you", "taking my business elsewhere", "from now
    on", "goodbye @x", "delete the app", "not worth the money", "don't recommend"; the customer's own act, not
    the company's ("you closed my account"), nor a one-off ("cancel my order")."""
    words = r.words
    n = r.n
    for i in r.hashtags:
        if words[i].startswith("#boycott"):
            return i
    if not r.mask & T_CANCEL:
        return -1
    for i, m, s in r.hits:
        if not m & T_CANCEL:
            continue
        w = words[i]
        nxt = r.word(i + 1)
        if m & END:
            prev = {words[j] for j in range(max(0, i - 2), i)}
            if prev & _NOT_THE_CUSTOMER or r.negated(i, 4) or not _own_act(r, i):
                continue
            j = r.next_content(i, _EMPTY | {"out", "down", "off", "up", "with", "from", "of"}, 4)
            if j >= 0:
                c, x = r.cls(j), words[j]
                if c & ONE_OFF_:
                    continue
                if c & HELD:
                    if x not in _ENDS_WITH or w.startswith(_ENDS_WITH[x]):
                        return i
                    continue
                if c & PROVIDER and w.startswith(("leav", "ditch", "dump", "quit")) and x not in (
                        "store", "stores", "shop", "retailer", "platform"):
                    return i
            # "I'm cancelling", "we will be leaving at the end of the month"
            if (nxt in CLAUSE_END or nxt in _UNTIL) and prev & _FIRST_FUTURE and w.startswith(("cancel", "quit")) \
                    and not w.endswith("ed"):
                return i
        elif w == "never":
            if _never_again(r, i):
                return i
        elif w in ("won't", "wont") or w == "not" and (r.word(i - 1) in ("will", "am", "i'm", "are", "we're")
                                                       or nxt in ("going", "gonna")) or w == "longer" and \
                r.word(i - 1) == "no":
            for j in range(i + 1, min(n, i + 6)):
                x = words[j]
                if x in CLAUSE_END:
                    break
                if x in ("renew", "renewing", "recommend", "recommending") or x in ("return", "returning") and (
                        r.word(j + 1) in ("", "to", "again", "here", "there", "ever") or r.word(j + 1) in CLAUSE_END
                        or r.word(j + 1).startswith("@")) or (
                        x == "back" and words[j - 1] in ("be", "come", "coming", "go", "going")) or (
                        x in ("customer", "client", "member", "subscriber") and "be" in words[i + 1:j]) or (
                        x == "business" and words[j - 1] in ("do", "doing")) or (
                        _CLASS_GET(x, 0) & NEVER_AGAIN and not x.endswith("ed") and x not in ("go", "come", "set",
                                                                                           "give", "get")
                        and "again" in words[j + 1:j + 5]):
                    return i
        elif w in ("lost", "lose", "losing", "loose"):
            if r.negated(i):
                continue
            if nxt in ("me", "us") and (r.word(i + 2) in ("as", "forever", "for", "today", "now", "")
                                        or r.word(i + 2) in CLAUSE_END):
                return i
            j = r.next_content(i, _EMPTY | {"another", "one", "loyal", "long", "time", "longtime", "paying",
                                            "valued", "good", "great", "faithful", "very", "regular"}, 4)
            if j >= 0 and (words[j] in ("customer", "customers", "client", "clients", "business", "custom",
                                        "subscriber", "subscribers") and words[j - 1] != "customer"):
                return i
            if j >= 0 and (words[j].isdigit() or _CLASS_GET(words[j], 0) & NUMBER) and r.word(j + 1) in (
                    "customers", "clients", "sales", "subscribers", "members", "users"):
                return i
        elif w == "done":
            if not r.negated(i) and (nxt == "with" and (r.word(i + 2) in ("you", "your", "y'all", "u") or
                                                         r.word(i + 2).startswith("@")) or
                                      r.word(i - 1) in ("so", "officially", "completely", "totally")):
                return i
        elif w == "elsewhere" or w == "else" and r.word(i - 1) == "somewhere":
            if any(words[j].startswith(("tak", "took", "go", "went", "shop", "look", "fly", "order", "spend",
                                        "mov", "buy", "bank", "book", "us")) for j in range(max(0, i - 5), i)):
                return i
        elif w == "from":
            if nxt == "now" and r.word(i + 2) == "on" and not r.smask[s] & THANKS:
                return i
        elif w in ("goodbye", "bye"):
            if nxt.startswith("@"):
                return i
        elif w.startswith("boycott") or w in ("unsubscribe", "unsubscribed", "unsubscribing"):
            return i
        elif w in ("stop", "stopped", "stopping", "quit", "quitting"):
            if nxt in ("using", "buying", "ordering", "shopping", "flying", "paying", "banking", "booking"):
                return i
        elif w == "worth":
            if r.word(i - 1) == "not" and nxt in ("it", "the", "paying", "my"):
                return i
        elif w == "waste":
            if nxt == "of" and r.word(i + 2) == "money":
                return i
        elif w == "recommend":
            if r.negated(i, 2) and r.word(i - 1) not in ("you", "they"):
                return i
        elif w in ("regret", "regretting", "regrets"):
            if nxt.endswith("ing") or nxt == "ever":
                return i
        elif w == "mistake":
            if r.word(i - 1) == "biggest":
                return i
        elif w == "avoid":
            if not r.negated(i) and (nxt in ("you", "your", "them") or nxt.startswith("@")
                                     or nxt == "at" and r.word(i + 2) == "all"):
                return i
        elif w == "away":
            if r.word(i - 1) == "stay" and nxt == "from":
                return i
        elif w == "last":
            k = i + 3 if r.word(i + 2) in ("i", "we", "i'll", "we'll") else i + 4 if r.word(i + 2) in (
                "i", "we") and r.word(i + 3) in ("will", "ever") else -1
            if nxt == "time" and k > 0 and _CLASS_GET(r.word(k), 0) & NEVER_AGAIN and not r.word(k).endswith("ed") \
                    and r.word(k) not in ("go", "come", "give", "set", "get", "back"):
                return i
        elif w in ("give", "giving", "gave"):
            if nxt == "up" and r.word(i + 2) == "on":
                return i
        elif w in ("nunca", "jamas", "jamais"):
            if nxt in ("mas", "m\u00e1s", "plus", "volver"):
                return i
    return -1


def _never_again(r: Reading, i: int) -> bool:
    """ "never again"; "never ... again" around a verb of using ("never flying with you again", not "hope it
    never happens again"); "never" with such a verb in -ing ("never flying with you"), or in the base form after
    "will", "'ll", "would" ("I'll never use you"); "never going to" only with such a verb ("never going to shop
    here", not "never going to get my money back")."""
    words = r.words
    x, prev = r.word(i + 1), r.word(i - 1)
    if x == "again":
        return True
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


def escalation_switch(r: Reading) -> int:
    """Moving to someone else: "switching to @x", "move to another provider", "looking for a new carrier",
    "thinking of leaving", "wish I had used @x", "#flyXinstead", "competitors"."""
    words = r.words
    n = r.n
    for i in r.hashtags:
        w = words[i]
        if w.endswith("instead") and len(w) > 8:
            return i
    if not r.mask & T_SWITCH:
        return -1
    for i, m, _ in r.hits:
        if not m & T_SWITCH:
            continue
        w = words[i]
        if m & SWITCH and not r.negated(i, 2) and not {words[j] for j in range(max(0, i - 2), i)} & _NOT_THE_CUSTOMER:
            j = r.next_content(i, frozenset({"over", "back", "my", "our", "service", "services", "business",
                                             "account", "number", "all", "everything", "provider", "bank"}), 3)
            if j >= 0 and words[j] in ("to", "for"):
                k = r.next_content(j, frozenset({"a", "an", "the"}), 2)
                x = r.word(k)
                if x.startswith("@") and not w.startswith(("go", "went", "gone", "chang", "transfer")) or \
                        x in ("competitor", "competitors", "rival", "rivals", "competition") or \
                        x in ("another", "different", "other", "new", "a") and r.near(k, PROVIDER, 0, 2) >= 0 or \
                        x.startswith("@") and "instead" in words[k:k + 4]:
                    return i
            if w.startswith("switch") and (r.cls(i + 1) & PROVIDER or words[i + 1:i + 2] == ["providers"]):
                return i
        if w in ("new", "another", "different", "better", "other"):
            k = r.near(i, PROVIDER, 0, 3)
            if k >= 0 and any(words[j].startswith(("switch", "chang", "look", "find", "shop", "get", "try",
                                                   "consider", "search", "go"))
                              for j in range(max(0, i - 3), i) if words[j] not in ("for", "a", "an", "to")):
                if words[k] in ("service", "services", "store", "stores", "shop", "platform") and not any(
                        words[j].startswith(("switch", "look", "find", "search")) for j in range(max(0, i - 4), i)):
                    continue
                return i
        if (w in ("considering", "thinking", "might", "tempted", "planning") or w in ("ready", "time", "about")
                and r.word(i + 1) == "to") and not r.negated(i):
            for j in range(i + 1, min(n, i + 6)):
                x = words[j]
                if x in CLAUSE_END:
                    break
                if x.startswith("switch") or x in ("cancelling", "canceling", "elsewhere") or (
                        x.startswith("leav") and (r.word(j + 1) in ("you", "your", "u", "them", "")
                                                  or r.word(j + 1) in CLAUSE_END or r.word(j + 1).startswith("@")
                                                  or r.cls(r.next_content(j)) & (PROVIDER | HELD))) or (
                        x == "new" and r.cls(j + 1) & PROVIDER and r.word(j + 1) not in ("service", "store")):
                    return i
        if w in ("wish", "should", "should've", "shoulda", "shouldve") and not r.negated(i, 2):
            for j in range(i + 1, min(n, i + 5)):
                x = words[j]
                if x in ("used", "chosen", "picked", "stayed", "flown", "booked", "bought", "gone", "went",
                         "ordered", "stuck"):
                    nx = r.word(j + 1)
                    if x in ("used", "chosen", "picked") and (nx.startswith("@") or r.cls(j + 1) & RIVAL) or \
                            nx in ("with", "from", "to") and (r.word(j + 2).startswith("@") or r.cls(j + 2) & RIVAL):
                        return i
                if x in CLAUSE_END:
                    break
        if w in ("competitor", "competitors") and not r.negated(i) and r.word(i - 1) not in ("our", "my"):
            return i
        if m & RIVAL and w in ("other", "another") and r.word(i + 1) in (
                "vendors", "providers", "carriers", "banks", "airlines", "companies", "options", "suppliers",
                "networks", "insurers", "isps") and any(words[j].startswith((
                    "look", "consider", "evaluat", "try", "go", "talk", "explor", "shop", "check", "switch"))
                    for j in range(max(0, i - 4), i)):
            return i
        if w == "instead" and r.word(i - 1).startswith("@") and i >= 2 and r.word(i - 2).startswith((
                "us", "fly", "go", "try", "order", "buy", "stick", "with", "from", "book", "shop", "choos")):
            return i
    return -1


def repeat_contact(r: Reading) -> int:
    """Repeats counted in numbers or said outright: "8th time this month", "called 5 times", "2 different
    agents", "again and again", "every time", "keeps dropping", "still not fixed", "down again"."""
    if not r.mask & T_REPEAT:
        return -1
    words = r.words
    for i, c, _ in r.hits:
        if not c & T_REPEAT:
            continue
        w = words[i]
        if w.isdigit() or c & NUMBER:
            if w.isdigit() and len(w) > 3:
                continue
            j = r.next_content(i, frozenset({"different", "separate", "more", "other", "whole", "full", "phone",
                                             "seperate"}), 3)
            x = r.word(j)
            if x in ("times", "calls", "emails", "messages", "dms", "tweets", "attempts", "tries", "chats",
                     "agents", "reps", "representatives", "complaints", "occasions", "visits", "letters",
                     "requests", "people", "e-mails") and r.word(i - 1) not in ("$", "\u00a3", "\u20ac"):
                if x == "times" and r.word(j + 1) in ("the", "more", "as", "faster", "slower", "better"):
                    continue
                return i
        elif c & ORDINAL:
            if w == "second" and r.word(i - 1) in ("a", "one", "per", "every") or r.word(i + 1) in (
                    "hand", "class", "half", "floor", "day", "week", "month", "year", "quarter"):
                continue
            j = r.next_content(i, frozenset({"straight", "consecutive", "single", "different", "separate", "time"}),
                               2)
            x = r.word(j)
            if x in ("time", "times", "call", "email", "message", "attempt", "request", "complaint", "outage",
                     "failure", "problem", "issue", "incident", "delay", "cancellation", "occasion", "visit",
                     "letter", "ticket", "order", "week", "month", "day") or r.word(i + 1) == "time":
                if x in ("week", "month", "day") and r.word(i - 1) in ("the", "this", "a", "every"):
                    continue
                return i
        elif w == "again":
            prev, nxt = r.word(i - 1), r.word(i + 1)
            if prev in ("yet", "once") or nxt == "and" and r.word(i + 2) == "again":
                return i
            for j in range(max(0, i - 4), i):
                x = words[j]
                if x in CLAUSE_END:
                    continue
                cx = _CLASS_GET(x, 0)
                if cx & (DOWN | TRIP_BAD | GONE | BLOCKED) and not cx & SERVICE or x in (
                        "happened", "happening", "happens", "messed", "screwed", "wrong", "charged", "billed",
                        "late", "same", "broke", "failed", "cancelled", "canceled", "declined", "lost", "crashed",
                        "missing", "damaged", "stolen", "delayed", "overcharged", "down", "broken"):
                    return i
        elif w in ("over", "time", "every", "all", "constantly", "repeatedly", "continually", "everyday",
                   "continuously"):
            nxt = r.word(i + 1)
            if w in ("constantly", "repeatedly", "continually", "everyday", "continuously") or \
                    w == "over" and nxt == "and" and r.word(i + 2) == "over" or \
                    w == "time" and nxt == "after" and r.word(i + 2) == "time" or \
                    w == "every" and (nxt in ("time", "day", "night", "morning", "week", "month", "evening") or
                                      nxt == "single" and r.word(i + 2) in ("time", "day")) and \
                    not r.in_sentence(i, {"thank", "thanks", "love", "great"}) or \
                    w == "all" and nxt == "the" and r.word(i + 2) == "time":
                return i
        elif w in ("keeps", "keep", "kept") and r.word(i + 1).endswith("ing") and r.word(i + 1) not in (
                "thinking", "going", "coming", "waiting", "trying", "telling", "asking", "buying", "using",
                "ordering", "everything", "getting", "making", "looking", "wondering"):
            return i
        elif w == "still" and (r.cls(i + 1) & STILL_BAD or r.word(i + 1) in ("being", "been") and r.word(i + 2) in (
                "charged", "billed", "ignored")):
            if not r.in_sentence(i, {"thanks", "thank", "love", "great", "enjoy", "like"}):
                return i
        elif w == "same" and r.word(i + 1) in ("problem", "issue", "thing", "error", "story", "response", "answer",
                                               "reply", "message"):
            return i
        elif w == "how" and r.word(i + 1) == "many" and r.word(i + 2) in ("times", "more", "calls", "emails"):
            return i
    return -1


_ANSWER_NOUNS = frozenset({"response", "responses", "reply", "replies", "answer", "answers", "solution",
                           "resolution", "update", "updates", "callback", "follow-up", "luck", "dice", "help",
                           "one", "word", "contact", "avail", "acknowledgement", "action", "assistance",
                           "explanation", "refund", "compensation"})
_ANSWER_VERBS = frozenset(w for w in L.ANSWER if not w.endswith(("tion", "ies", "ses")) and w not in _ANSWER_NOUNS
                          or w in ("help", "contact")) | {"call", "called", "get", "got", "hear", "heard",
                                                          "follow", "followed", "bothered", "bother", "email",
                                                          "emailed", "reached", "touch"}


def unresolved(r: Reading) -> int:
    """No answer, no help, no resolution: "no response", "nobody answers", "never called back", "ignored", "on
    hold", "still waiting", "useless", "refused my claim"."""
    if not r.mask & T_UNRESOLVED:
        return -1
    words = r.words
    n = r.n
    for i, c, _ in r.hits:
        if not c & T_UNRESOLVED:
            continue
        w = words[i]
        if w in ("no", "zero", "without"):
            j = r.next_content(i, frozenset({"real", "proper", "any", "further", "more", "one's", "reply", "kind",
                                             "of", "actual", "useful", "satisfactory"}), 3)
            x = r.word(j)
            if x in _ANSWER_NOUNS and x not in ("refund", "compensation") and not (x == "one" and r.word(j + 1) in (
                    "else", "of")) and not r.in_sentence(i, {"worries", "problem", "thanks", "thank", "need"}):
                return i
        elif c & NOBODY or w in ("no-one", "noone") or w == "one" and r.word(i - 1) == "no":
            for j in range(i + 1, min(n, i + 5)):
                x = words[j]
                if x in CLAUSE_END:
                    break
                if x in _ANSWER_VERBS or x.startswith(("answer", "respond", "repl", "help", "call", "care",
                                                       "bother", "seem", "knows", "know", "can")):
                    if x in ("can", "seem", "seems") and not any(words[k].startswith(("help", "answer", "fix",
                                                                                      "tell", "explain", "sort",
                                                                                      "resolv"))
                                                                 for k in range(j + 1, min(n, j + 4))):
                        continue
                    return i
        elif c & NEG or w.endswith("n't"):
            if w in ("no", "not", "never") and r.word(i - 1) in ("if", "whether"):
                continue
            for j in range(i + 1, min(n, i + 4)):
                x = words[j]
                if x in ("even", "yet", "ever", "been", "be", "bothered", "to", "you", "they", "anyone", "we", "i",
                         "got", "get", "able", "properly", "really", "actually", "helped", "have"):
                    if x in ("helped", "bothered"):
                        return i
                    continue
                if x in ("answer", "answered", "answering", "respond", "responded", "responding", "reply",
                         "replied", "replying", "resolved", "fixed", "solved", "sorted", "resolve", "fix", "solve",
                         "help", "helping", "helpful", "acknowledged", "heard", "hear", "assist", "assisted",
                         "returned") or x in ("return", "returning") and r.word(j + 1) in ("my", "our", "any") or x in ("call", "called", "calling", "get", "got", "gotten", "getting",
                                              "heard", "hear", "followed", "follow", "wrote", "write", "email",
                                              "emailed", "contacted") and r.word(j + 1) in ("back", "up", "from"):
                    if x in ("help", "fix", "resolve", "solve", "assist") and w in ("not", "no") and r.word(
                            i - 1) in ("if", "whether", "might", "could", "may"):
                        break
                    if x == "help" and r.word(j + 1) in ("but", "it", "thinking", "feeling", "myself", "noticing",
                                                         "wondering", "laughing"):
                        break
                    return i
                break
        elif c & UNRESOLVED:
            if w.startswith("escalat") and r.in_sentence(i, {"thanks", "thank"}):
                continue
            if w.startswith("ignor") and r.word(i + 1) in ("the", "this", "that", "it", "my", "me", "us", "our",
                                                           "") or w.startswith("ignor") and r.word(i - 1) in (
                    "been", "being", "keep", "keeps", "you", "they", "just", "totally", "completely", "was", "were",
                    "get", "getting", "got", "still"):
                return i
            if not w.startswith("ignor"):
                return i
        elif w == "hold" and r.word(i - 1) == "on" and not r.cls(i + 1) & ACCOUNT:
            if r.in_sentence(i, {"hour", "hours", "minutes", "mins", "min", "again", "been", "still", "forever",
                                 "ages", "waiting", "hrs", "hr"}):
                return i
        elif w == "hung" and r.word(i + 1) == "up":
            return i
        elif w == "waiting" and r.word(i - 1) in ("still", "been", "keep", "kept", "keeps"):
            return i
        elif w == "waiting" and r.word(i + 1) in ("for", "on", "since") and any(
                words[j] in ("days", "weeks", "months", "hours", "year", "ages", "forever", "reply", "response",
                             "answer", "refund", "compensation", "callback") for j in range(i + 2, min(n, i + 8))):
            return i
        elif w in ("denied", "refused", "rejected", "declined", "refuse", "refusing", "refuses", "deny", "denies",
                   "denying", "reject", "rejects") and any(
                words[j] in ("refund", "claim", "compensation", "request", "appeal", "credit", "claims", "requests",
                             "reimbursement", "complaint", "help") for j in range(i + 1, min(n, i + 5))):
            return i
        elif w == "entitled" and r.word(i - 1) == "not":
            return i
        elif w == "waste" and r.word(i + 1) == "of" and r.word(i + 2) in ("time", "my"):
            return i
        elif w == "avail" and r.word(i - 1) == "no":
            return i
        elif w == "helpful" and r.word(i - 1) in ("not", "never", "isn't", "wasn't"):
            return i
    return -1


_PRAISE_AFTER = {"great": {"help", "service", "support", "job", "work", "experience", "team"},
                 "excellent": {"help", "service", "support", "job", "work", "experience", "team"},
                 "amazing": {"help", "service", "support", "job", "work", "experience", "team"},
                 "love": {"you", "it", "this", "your", "the", "that"}, "best": set(), "good": {"job", "service"},
                 "worries": set(), "perfect": set(), "awesome": set(), "brilliant": set(), "wonderful": set(),
                 "fantastic": set(), "helpful": set()}


def satisfied(r: Reading) -> int:
    """Thanks, a fix or praise, not negated: "thanks, all sorted", "works now", "great help", "you're the best",
    "no worries"."""
    if not r.mask & (THANKS | RESOLVED):
        return -1
    words = r.words
    for i, m, s in r.hits:
        if not m & (THANKS | RESOLVED) or r.negated(i):
            continue
        w = words[i]
        after = _PRAISE_AFTER.get(w)
        if after is not None:
            prev, nxt = r.word(i - 1), r.word(i + 1)
            if not (nxt in after or w == "worries" and prev == "no" or w == "best" and prev in ("the", "da")
                    or prev in ("you're", "youre", "are", "so", "very", "was", "been", "is", "you") and w in (
                        "awesome", "amazing", "brilliant", "wonderful", "fantastic", "perfect", "helpful", "great")
                    or w == "perfect" and (i == 0 or prev in CLAUSE_END)):
                continue
            return i
        if m & THANKS or _resolved_at(r, i):
            return i
    return -1


def _resolved_at(r: Reading, i: int) -> bool:
    """ "sorted", "fixed", "resolved", "solved", "works now", "working now", "all good", "got it", "found it"."""
    w = r.words[i]
    return w in ("sorted", "fixed", "resolved", "solved") or w in ("works", "working") and r.word(i + 1) == "now" \
        or w == "good" and r.word(i - 1) == "all" or w in ("got", "found") and r.word(i + 1) == "it"


DETECTORS: dict[str, Detector] = {
    "escalation_cancel": escalation_cancel, "escalation_switch": escalation_switch,
    "escalation_legal": escalation_legal, "escalation_refund": escalation_refund, "billing_error": billing_error,
    "security": security, "lockout": lockout, "outage": outage, "trip_disrupted": trip_disrupted,
    "delivery_failure": delivery_failure, "data_loss": data_loss, "repeat_contact": repeat_contact,
    "unresolved": unresolved, "satisfied": satisfied,
}


def _mood(r: Reading) -> dict[Signal, str]:
    """Hostility (several condemnations, or one in a very negative message), anger (a condemnation, distress,
    shouting or "!!" in a negative message), or frustration (expletives, mild words, angry emoji, negative
    sentiment)."""
    text, words = r.text, r.words
    condemned: list[int] = []
    seen: set[str] = set()
    distress = mild = -1
    if r.mask & (CONDEMN | DISTRESS | MILD):
        for i, m, s in r.hits:
            w = words[i]
            if m & CONDEMN and w not in seen and not r.negated(i):
                condemned.append(i)
                seen.add(w)
            elif m & DISTRESS and distress < 0 and not r.negated(i):
                distress = i
            elif m & MILD and mild < 0 and not r.negated(i):
                if w in ("sick", "tired") and r.word(i + 1) != "of" or w == "fed" and r.word(i + 1) != "up" or \
                        w in ("really", "seriously") and r.word(i + 1) not in ("?", "!", "") or \
                        w in ("bad", "poor", "sad") and text.compound > -0.3 or w == "mad" and text.compound > 0:
                    continue
                mild = i
    for i in ([j for j, m, _ in r.hits if m & T_OTHER] if r.mask & T_OTHER else []) + r.hashtags:
        w = words[i]
        if w == "shame" and r.word(i + 1) == "on" or w[0] == "#" and _condemning_hashtag(w):
            if w not in seen:
                condemned.append(i)
                seen.add(w)
    compound = text.compound
    if len(condemned) >= 2 or condemned and compound <= -0.75:
        return {"hostility": ", ".join(words[i] for i in condemned[:3])}
    negative = compound <= -0.3 and (text.shouting or text.exclaims)
    if condemned or distress >= 0 or negative:
        quote = (words[condemned[0]] if condemned else text.quote(distress) if distress >= 0
                 else " ".join(text.shouted[:3]) or ", ".join(text.negative_words) or text.original[:60])
        return {"anger": quote}
    # VADER alone, however negative ("broken", "failed"), says frustration, never more
    if mild >= 0 or compound <= -0.4 or text.exclaims and compound <= 0 and compound < 0:
        return {"frustration": text.quote(mild) if mild >= 0 else ", ".join(text.negative_words)
                or text.original[:60]}
    return {}


_HASHTAG_CONDEMN = tuple(sorted((w for w in L.CONDEMN if len(w) >= 4 and w.isalpha()), key=len, reverse=True))


@lru_cache(maxsize=1024)
def _condemning_hashtag(tag: str) -> bool:
    """A hashtag that condemns: one word of the list (#theft), or starting or ending with one (#lyingdriver,
    #xsucks, #fail)."""
    body = tag[1:]
    return body in L.CONDEMN or body.endswith(("fail", "shame", "disgrace")) or body.startswith(
        _HASHTAG_CONDEMN) or body.endswith(_HASHTAG_CONDEMN)


def detect(raw: str) -> dict[Signal, str]:
    """Each signal found in `raw`, with a short quote that showed it."""
    return dict(_detect(raw))


# each detector with the classes without which it finds nothing (it is not called when the text has none), and
# whether hashtags alone can show it
_PLAN: tuple[tuple[str, Detector, int, bool], ...] = tuple(
    (signal, DETECTORS[signal], need, tags) for signal, need, tags in (
        ("escalation_cancel", T_CANCEL, True), ("escalation_switch", T_SWITCH, True),
        ("escalation_legal", LAW, False), ("escalation_refund", SEEK | MONEY, False),
        ("billing_error", MONEY, False), ("security", T_SECURITY, False),
        ("lockout", ACCOUNT | CANNOT | NOBODY | T_LOCK, False),
        ("outage", DOWN | WORKS | CANNOT | SERVICE, False), ("trip_disrupted", TRIP, False),
        ("delivery_failure", GOODS, False), ("data_loss", DATA, False), ("repeat_contact", T_REPEAT, False),
        ("unresolved", T_UNRESOLVED, False), ("satisfied", THANKS | RESOLVED, False),
    ))
assert {p[0] for p in _PLAN} == set(DETECTORS)
_UNSATISFIED = NEGATIVE - {"repeat_contact"}


@lru_cache(maxsize=4096)
def _detect(raw: str) -> dict[Signal, str]:
    """Cached: the rules model reads each event's text twice (its note, then its tag plan)."""
    text = read_text(raw)
    r = Reading(text)
    mask, tags = r.mask, bool(r.hashtags)
    found: dict[Signal, str] = {}
    for signal, detector, need, by_tags in _PLAN:
        if mask & need or by_tags and tags:
            i = detector(r)
            if i >= 0:
                found[signal] = text.quote(i)  # type: ignore[index]
    found |= _mood(r)
    if "satisfied" in found:
        resolved = bool(mask & RESOLVED) and any(m & RESOLVED and _resolved_at(r, i) and not r.negated(i)
                                                 for i, m, _ in r.hits)
        if text.compound < (0.2 if resolved else 0.4) or not found.keys().isdisjoint(_UNSATISFIED):
            del found["satisfied"]
    return found
