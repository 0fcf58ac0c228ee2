"""Failures of what the customer pays for: a service down, a lockout, a disrupted trip, goods that never came,
data gone, a security problem."""

from __future__ import annotations

from bisect import bisect_right

from ticket_enricher.agents.rules.language import SENTENCE_END
from ticket_enricher.agents.rules.signals.airline import on_board
from ticket_enricher.agents.rules.signals.reading import (
    _BE,
    _CLASS_GET,
    _CREDENTIALS,
    _EMPTY,
    _NOT_DOWN_AFTER,
    _QUANTITY,
    _SECURITY_ALONE,
    _SECURITY_PAIRS,
    ACCESS,
    ACCOUNT,
    ARRIVE,
    BATTERY,
    BLOCKED,
    CANNOT,
    DATA,
    DEVICE,
    DOWN,
    GONE,
    GOODS,
    GOODS_BAD,
    MONEY,
    NOBODY,
    SERVICE,
    T_LOCK,
    T_OUTAGE,
    T_SECURITY,
    WORKS,
    Reading,
)
from ticket_enricher.agents.rules.signals.whose import a_feature, hypothetical, not_lived, someone_elses


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
_FLICKER = frozenset({("on", "off"), ("off", "on"), ("in", "out")})
_HAVING = frozenset({"having", "have", "had", "has", "experiencing", "constant", "any", "still", "ongoing",
                     "major", "serious", "big", "some", "getting", "continuous", "more", "persistent"})


_SHOWS = frozenset({"getting", "get", "got", "gets", "gives", "giving", "gave", "shows", "showing", "says", "keep",
                    "keeps", "throws", "pops", "receive", "receiving"})
_TIME_UNITS = frozenset({"hrs", "hr", "hours", "hour", "mins", "min", "minutes", "days", "day", "weeks", "h"})
_UTILITIES = frozenset({"power", "electricity", "electric", "heating", "heat", "gas", "dial", "landline", "hot"})
_SIGN_IN = frozenset({"password", "passwords", "pin", "login", "otp", "2fa", "card", "cards"})  # not a promo "code"
_OUT_AFTER = _BE | {"is", "been", "was", "went", "goes", "go"}
_NOT_OUT_AFTER = frozenset({"of", "for", "to", "with", "there", "here", "and", "now", "loud", "front", "back",
                            "on", "at", "in", "early", "late", "soon", "shopping", "today"})


def _phrase_outage(r: Reading) -> int:
    """Outages said in phrases rather than words of failure: a service "out" ("the internet is out again",
    "power's been out since 6"), "something went wrong" on a service, "stuck on the loading screen"."""
    words = r.words
    for i in range(r.n):
        w = words[i]
        if w == "out" and r.word(i - 1) in _OUT_AFTER and r.word(i + 1) not in _NOT_OUT_AFTER:
            k = r.near(i, SERVICE | BATTERY, 4, 0)
            if k >= 0 and (words[k] == "power" or r.cls(k) & SERVICE) and not r.negated(i):
                return k
        elif w == "wrong" and words[i - 1] == "went" and r.word(i - 2) == "something":
            s = bisect_right(r.ends, i) if r.ends else 0
            if _has_service(r, s) and not _device_fails(r, i, s):
                return i - 2
        elif w == "stuck" and r.word(i + 1) in ("on", "at", "in") and ("loading" in words[i + 2:i + 5] or any(
                x in ("queue", "queues", "queuing", "waiting") for x in words[i + 2:i + 5]) and r.near(i, SERVICE, 0, 7)
                >= 0):
            return i  # "stuck on the loading screen", "stuck in a queue on your website for 40 mins"
        elif w in ("timing", "timed", "times") and r.word(i + 1) == "out":
            s = bisect_right(r.ends, i) if r.ends else 0
            if _has_service(r, s) and not _device_fails(r, i, s):
                return i  # "the website keeps timing out"
    return -1


def outage(r: Reading) -> int:
    """A service down or unusable: "outage", "no internet", "site is down", "app not loading", "can't connect",
    a service with an error, lag or crash; not a device ("my keyboard is not working"), nor a failure that is not
    the customer's (`whose.not_lived`: news, someone else's story, one that may come)."""
    i = _outage(r)
    return -1 if i >= 0 and (not_lived(r, i) or on_board(r, i)) else i


# what "offline" names when it is a feature, not a failure: "offline downloads are a lifesaver"
_FEATURES = frozenset({"downloads", "download", "mode", "maps", "map", "viewing", "listening", "access", "playback",
                       "play", "use", "sync", "support", "version", "feature", "features"})


def _outage(r: Reading) -> int:
    if not r.mask & (DOWN | WORKS | CANNOT | SERVICE | T_OUTAGE):
        return -1
    words = r.words
    lower = r.text.lower
    if " out" in lower or "wrong" in lower or "stuck" in lower:
        i = _phrase_outage(r)
        if i >= 0:
            return i
    if " and " in lower:
        for i in range(1, r.n - 1):  # "my service is always on and off", "the signal keeps cutting in and out"
            if words[i] == "and" and (words[i - 1], words[i + 1]) in _FLICKER:
                s = bisect_right(r.ends, i) if r.ends else 0
                if r.near(i - 1, SERVICE, 6, 0) >= 0 and not _device_fails(r, i, s):
                    return i - 1
    for i, m, s in r.hits:
        if not m & _OUTAGE_STARTS:
            continue
        w = words[i]
        if w in ("outage", "outages", "offline") and not r.negated(i) and not (w == "offline" and (
                r.word(i + 1) == "for" and r.word(i + 2) in ("the", "a", "two", "2", "few") or r.word(i - 1) in (
                "going", "go", "be", "being", "i'm", "im", "stay", "staying") or r.word(i + 1) in _FEATURES)):
            return i  # not "offline for the weekend, camping", "I'll be offline till Monday", "offline downloads"
        if w == "no" and r.word(i + 1) in _UTILITIES or w in ("error", "errors") and r.word(i + 1)[:1].isdigit() \
                and not _device_fails(r, i, s):
            return i  # "no power", "no heating", "getting error 503"
        if w == "no" or w == "zero":
            j = r.next_content(i, _EMPTY | {"phone", "mobile", "cell", "home", "more"}, 3)
            if j >= 0 and r.cls(j) & SERVICE and words[j] not in ("one", "live", "chat", "game", "games", "page",
                                                                    "apps", "app", "email", "emails", "system",
                                                                    "orders", "texts", "calls", "video", "videos"):
                return i
            continue
        if w == "down":
            nxt = r.word(i + 1)
            if nxt[:1].isdigit() and r.word(i + 2) in _TIME_UNITS and r.near(i, SERVICE, 4, 0) >= 0:
                return i  # "internet been down 3 hrs"
            if nxt[:1].isdigit() or r.negated(i) or nxt in ("payment", "to", "the", "with", "by", "from", "here",
                                                             "there", "into", "a", "my", "your", "and"):
                continue
            if (r.near(i, SERVICE, 4, 0) >= 0 or r.word(i - 1) in _BE and nxt not in _NOT_DOWN_AFTER and not any(
                    words[j] in _QUANTITY for j in range(max(0, i - 7), i))) and not _device_fails(r, i, s):
                return i  # "the app is down", "servers down for everyone", "is it down?"
            continue
        if m & DOWN and (not m & (MONEY | GOODS_BAD) or r.word(i - 1) in _BE and r.near(i, SERVICE, 3, 0) >= 0
                         and not r.near(i, GOODS, 3, 0) >= 0 and not m & MONEY):  # "your app is broken"
            if r.negated(i) or w in ("drop", "drops", "dropped", "dropping") and not r.smask[s] & SERVICE or \
                    w.startswith("fail") and r.word(i + 1) == "to":
                continue  # "failed to verify" is someone not doing their job, not a service down
            if _has_service(r, s) and not _device_fails(r, i, s):
                return i
            if w in ("error", "errors") and r.word(i - 1 - (r.word(i - 1) in ("an", "the", "this", "same"))) in (
                    _SHOWS) and not _device_fails(r, i, s) and any(
                    words[j] in ("try", "trying", "tried", "attempt") for j in range(i + 1, min(r.n, i + 8))):
                return i  # "an error every time I try to pay": unusable, whatever it is called
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
        if w in ("trouble", "problems", "issues", "difficulties") and r.word(i + 1) == "with" and \
                r.word(i - 1) in _HAVING and not r.negated(i):
            j = r.near(i + 1, SERVICE, 0, 4)  # a brand may come between: "trouble with their Boost Mobile network"
            if j >= 0 and not r.cls(j) & DEVICE and not any(r.cls(k) & DEVICE for k in range(i + 2, j)) and \
                    not _device_fails(r, j, s):
                return i  # "having trouble with the network", "constant issues with the app"
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


_THEIRS = frozenset({"his", "her", "their"})


def lockout(r: Reading) -> int:
    """Locked out of an account, or an account, card or payment refused: "locked out", "can't log in",
    "account suspended", "card declined", "password says incorrect", "funds on hold"."""
    i = _lockout(r)
    # not "friend's card got locked", "what happens to my standing orders if I freeze my card?"
    return -1 if i >= 0 and (a_feature(r, i) or hypothetical(r, i) or someone_elses(r, i)) else i


def _lockout(r: Reading) -> int:
    if not r.mask & (ACCOUNT | CANNOT | NOBODY | T_LOCK):
        return -1
    words = r.words
    for i, m, s in r.hits:
        if not m & (ACCOUNT | CANNOT | NOBODY | T_LOCK):
            continue
        if words[i] in _SIGN_IN and any(_CLASS_GET(words[j], 0) & WORKS and r.negated(j, 2)
                                            for j in range(i + 1, min(r.n, i + 5))):
            return i  # "password reset link doesn't work", "my login isn't working"
        w = words[i]
        if w in ("locked", "logged", "lock", "locking", "logging", "kicked") and r.word(i + 1) in ("out", "me", "us"):
            if r.word(i + 1) == "out" or r.word(i + 2) == "out":
                if not r.negated(i) and not (r.word(i + 1) == "out" and not _PEOPLE.isdisjoint(
                        words[max(0, i - 4):i]) and "me" not in words[i:i + 3]):
                    return i  # not "my boss got locked out of his account"
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
        if m & ACCOUNT and not r.in_sentence(i, {"promo", "coupon", "voucher", "discount", "gift", "promotion"}) and \
                _THEIRS.isdisjoint(words[max(0, i - 3):i]):  # not "my boss got locked out of his Microsoft account"
            j = r.near(i, BLOCKED, 5, 8)
            if j >= 0 and not r.negated(j) and not r.negated(i):
                x = words[j]
                if x in ("incorrect", "invalid", "expired", "block") and (words[i] not in _CREDENTIALS or
                                                                          abs(j - i) > 2):
                    continue  # "incorrect information on my account" is a dispute; "password incorrect" a lockout
                placed = r.word(j - 1) in ("placed", "put")
                if x in ("hold", "holding", "flag", "flags", "ban") and not (placed or r.word(j - 1) in ("on", "a")) \
                        or x in ("limit", "limits", "limited") and not placed:
                    continue
                if x in ("pending", "expired") or _asked_to_block(r, j):
                    continue  # a payment pending is slow, a card expired is due; "please freeze my card" is asked
                return i
        if words[i] in _CARDS and (k := _card_unusable(r, i)) >= 0:
            return k
        if w in ("blocked", "unblocked") and r.word(i - 1) in ("am", "got", "get", "been", "being", "was", "i'm",
                                                                 "im", "were", "is") and not r.negated(i, 2) and \
                not {"i", "we", "me", "us", "i'm", "im", "i've", "ive"}.isdisjoint(words[max(0, i - 6):i]) and \
                not (r.word(i + 1) == "by" and not _PEOPLE.isdisjoint(words[i + 2:i + 5])):
            return i  # "I logged in wrong and am blocked", "how do I get unblocked?"; not "blocked by my sister"
    return -1


# people who block someone on their own account: no lockout by the service
_PEOPLE = frozenset({"sister", "brother", "mum", "mom", "dad", "friend", "friends", "ex", "boyfriend", "girlfriend",
                     "wife", "husband", "cousin", "boss", "him", "her", "them", "someone", "everyone", "neighbour",
                     "neighbor", "son", "daughter", "aunt", "uncle", "bestie", "crush"})
_WORK = frozenset({"work", "working", "works", "worked", "function", "functioning", "functional"})
_YOUR_CARD = frozenset({"my", "this", "the", "virtual", "physical", "disposable", "new", "debit", "credit"})
_RATHER = frozenset({"rather", "want", "places", "where", "prefer", "instead", "without"})
_CARDS = frozenset({"card", "cards", "card's", "contactless", "pin", "password", "login", "account"})
_REQUEST = frozenset({"please", "pls", "to", "can", "could", "would", "how", "want", "need", "should", "i'd", "you",
                      "must", "let"})


def _asked_to_block(r: Reading, j: int) -> bool:
    """The customer asks for the block: "please freeze my card", "I need to block my card", "can you lock it"."""
    w, words = r.words[j], r.words
    if w.endswith(("ed", "en")) or w in ("froze", "held"):  # "can my card be frozen?"
        return r.word(j - 1) == "be" and not _REQUEST.isdisjoint(words[max(0, j - 6):j])
    return not (_REQUEST | {"or", "a", "how"}).isdisjoint(words[max(0, j - 3):j])


def _card_unusable(r: Reading, i: int) -> int:
    """A card, PIN or login that does not work: "my card isn't working", "why won't my virtual card work", "I
    can't use my card", "my card is broken", "my PIN is blocked, how do I unblock it", "entered the wrong PIN
    too many times"."""
    words = r.words
    lo, hi = r.span(r.sentence_of(i))
    card = words[i] in ("card", "cards", "card's", "contactless")
    for j in range(i + 1, min(hi, i + 9)):
        x = words[j]
        if x in _WORK and (r.negated(j, 3) or r.word(j - 1) in ("stopped", "stop", "non", "non-")) and (
                j < i + 7 or card and "it" in words[i + 1:j] and "activate" not in words[lo:hi]):
            return i  # "my card isn't working", "my card stopped working", "new card came and now it doesn't work"
        if j > i + 6:
            continue
        if x in ("broken", "broke", "useless", "dead", "unusable", "blocked", "unblocked", "unblocking") or \
                x in ("accept", "accepting", "going", "valid", "accepted", "recognised", "recognized") and \
                r.negated(j, 3) and card or x in ("error", "errors", "invalid") and j <= i + 2 and card:
            return i  # "my card is broken", "my virtual card is just not going through", "says card not valid",
            # "card error"
        if x in ("work", "working", "function") and not {"get", "make", "getting"}.isdisjoint(words[max(lo, i - 4):i]):
            return i  # "how do I get my card to work?": it does not
    for j in range(max(lo, i - 6), i):
        x = words[j]
        if x in ("use", "make", "do") and (r.negated(j, 3) or "unable" in words[max(lo, j - 3):j] or r.word(
                j - 2) == "able" and r.negated(j - 2, 3)) and card and \
                r.word(i - 1) in _YOUR_CARD and _RATHER.isdisjoint(words[lo:hi]) and r.word(j - 1) != "i":
            return i  # "I can't use my card", "I am unable to make purchases with my virtual card"
        if x in ("broken", "broke", "damaged", "non-functional", "nonfunctional", "faulty", "defective",
                 "block", "blocked") and j >= i - 3 and card and not r.negated(j, 3):
            return i  # "a broken card", "I broke my card", "I managed to block my card"
        if x in ("rejected", "declined", "refused") and card and r.word(i - 1) in ("virtual", "disposable"):
            return i  # "I got rejected for using my disposable virtual card"
        if x.startswith(("unblock", "unlock")):
            return i  # "how can I unblock my PIN?"
        if x in ("won't", "wont", "can't", "cant") and not {"work", "accept"}.isdisjoint(words[i + 1:i + 3]):
            return i  # "why won't my card work", "why won't the machine accept my card"
        if x in ("problem", "problems", "issue", "issues", "wrong") and r.word(j + 1) == "with" and card:
            return i  # "I am having problems with my physical card", "what's wrong with my card"
    if words[i] == "pin" and any(x in ("tries", "attempts", "times") for x in words[i + 1:min(hi, i + 6)]) and \
            not {"wrong", "many", "all", "incorrect", "exceed", "exceeded", "used", "no", "run"}.isdisjoint(
                words[lo:hi]):
        return i  # "entered the wrong PIN too many times", "used all of my PIN tries"
    if words[i] == "pin" and r.word(i - 1) in ("wrong", "incorrect") and r.word(i + 1) in ("too", "three", "3"):
        return i
    return -1


def delivery_failure(r: Reading) -> int:
    """Goods lost, missing, late, wrong or damaged, or never arrived: "my parcel never arrived", "lost my bags",
    "order was wrong", "where is my package"."""
    if not r.mask & GOODS:
        return -1
    words = r.words
    for i, m, _ in r.hits:
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
    for i, m, _ in r.hits:
        if m & DATA and r.word(i + 1) not in ("connection", "signal", "service", "plan", "speed", "speeds"):
            j = r.near(i, GONE, 4, 4)
            if j >= 0 and not r.negated(j):
                return i
    return -1


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
