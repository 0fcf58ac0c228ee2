"""Words and their classes: one look-up per word gives every class a detector needs and VADER's valence;
`Reading` holds a text's classed words in order and each sentence's classes."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable

from ticket_enricher.agents.rules import lexicons as L
from ticket_enricher.agents.rules.language import CLAUSE_END, NEGATORS, SENTENCE_END, Text, scored_words

# word classes, one bit each
_NAMES = ("MONEY", "SEEK", "STRONG", "WEAK", "ROUTINE", "BATTERY", "SERVICE", "DEVICE", "DOWN", "WORKS", "ACCESS",
          "CANNOT", "ACCOUNT", "BLOCKED", "TRIP", "TRIP_BAD", "GOODS", "GOODS_BAD", "ARRIVE", "DATA", "GONE", "END",
          "HELD", "ONE_OFF", "NEVER_AGAIN", "SWITCH", "RIVAL", "PROVIDER", "LAW", "THREAT", "NUMBER", "ORDINAL",
          "CONTACTS", "STILL", "STILL_BAD", "ANSWER", "NOBODY", "UNRESOLVED", "CONDEMN", "DISTRESS", "MILD",
          "THANKS", "RESOLVED", "NEG", "ME", "STOP", "ADJUST", "T_CANCEL", "T_SWITCH", "T_REPEAT", "T_UNRESOLVED",
          "T_SECURITY", "T_OTHER", "T_LOCK", "T_OUTAGE", "T_ENTRY", "T_WAKE")
(MONEY, SEEK, STRONG, WEAK, ROUTINE, BATTERY, SERVICE, DEVICE, DOWN, WORKS, ACCESS, CANNOT, ACCOUNT, BLOCKED, TRIP,
 TRIP_BAD, GOODS, GOODS_BAD, ARRIVE, DATA, GONE, END, HELD, ONE_OFF_, NEVER_AGAIN, SWITCH, RIVAL, PROVIDER, LAW,
 THREAT, NUMBER, ORDINAL, CONTACTS, STILL, STILL_BAD, ANSWER, NOBODY, UNRESOLVED, CONDEMN, DISTRESS, MILD, THANKS,
 RESOLVED, NEG, ME, STOP, ADJUST, T_CANCEL, T_SWITCH, T_REPEAT, T_UNRESOLVED, T_SECURITY,
 T_OTHER, T_LOCK, T_OUTAGE, T_ENTRY, T_WAKE) = (1 << i for i in range(len(_NAMES)))
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
                        "giving", "gave", "nunca", "jamas", "jam\u00e1s", "jamais", "boycott", "boycotting",
                        "boycotted", "stay", "notice", "get", "don't", "dont", "exit", "termination", "cord"}
     | L.LEAVING_STEPS),
    (T_SWITCH, L.SWITCH | {"new", "another", "different", "better", "other", "considering", "thinking", "might",
                           "tempted", "planning", "ready", "time", "about", "wish", "should", "should've",
                           "shoulda", "shouldve", "competitor", "competitors", "instead", "alternative",
                           "alternatives", "shop", "shopping", "reason", "reasons", "taking", "take", "took"}),
    (T_REPEAT, L.NUMBER | L.ORDINAL | {str(k) for k in range(1, 1000)} | {
        "again", "over", "time", "every", "all", "constantly", "repeatedly", "continually", "everyday",
        "continuously", "keeps", "keep", "kept", "still", "same", "how"}),
    (T_UNRESOLVED, {"no", "zero", "without", "no-one", "noone", "one", "hold", "hung", "waiting", "denied",
                    "refused", "rejected", "declined", "refuse", "refusing", "refuses", "deny", "denies", "denying",
                    "reject", "rejects", "entitled", "waste", "avail", "helpful"} | L.NOBODY | NEGATORS
     | L.UNRESOLVED),
    (T_OTHER, {"board", "boarded", "boarding", "shame", "stranded", "marooned", "rebook", "rebooked", "rebooking",
               "delay", "delays", "delayed", "overbooked", "oversold", "late", "pushed", "crew", "diverted", "supposed",
               "mechanic", "mechanics", "catering", "de-icing", "deicing", "de-iced", "onboard", "cancelled",
               "canceled", "cancellation", "cancellations", "cancelation", "cancelations", "ground"}),
    (T_ENTRY, L.ENTRIES | L.AT_MACHINE | {"charged", "billed", "debited", "deducted", "taken"}),
    # words that wake the trip detector without being a cue it could not read (`signals._WAKES`): a wait where no
    # trip is named ("sitting at B22 for three hours"), a slip told by the clock ("our 9am is now a 2pm")
    (T_WAKE, {"sitting", "sat", "stuck", "waiting", "deplaned", "atc"}),
    (T_LOCK, {"locked", "logged", "lock", "locking", "logging", "kicked", "one", "blocked", "unblocked", "unblock",
              "unblocking"}),
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
_QUANTITY = frozenset({"market", "markets", "score", "scores", "price", "prices", "rate", "rates", "balance", "value",
                       "stock", "stocks",
                       "sales", "numbers", "number", "ratings", "rating", "temperature", "amount", "cost", "costs",
                       "bill", "payment", "payments", "interest", "volume", "weight", "percentage", "shares"})
_CREDENTIALS = frozenset({"password", "pin", "code", "otp", "2fa", "verification", "login", "id", "card", "cards"})
_NOT_A_SERVICE = frozenset({"customer", "client", "guest", "room", "table", "member"})


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


def named(word: str) -> bool:
    """A company addressed or named: "@x", "swisscom"."""
    return word.startswith("@") or word in L.BRANDS


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

    def sentence_of(self, i: int) -> int:
        """The index of the sentence word `i` is in."""
        return bisect_left(self.ends, i)

    def span(self, s: int) -> tuple[int, int]:
        """The word range of sentence `s`."""
        ends = self.ends
        return (ends[s - 1] + 1 if s > 0 else 0), (ends[s] if s < len(ends) else self.n)

    def around(self, i: int, before: int, after: int) -> list[int]:
        """The indices from `before` words before `i` to `after` words after it, within its sentence, nearest
        first (the earlier of two at the same distance first): where a check looks for the word a detector's hit
        stands for ("my card ... declined")."""
        lo, hi = self.span(self.sentence_of(i))
        return sorted(range(max(lo, i - before), min(hi, i + after + 1)), key=lambda k: abs(k - i))

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
