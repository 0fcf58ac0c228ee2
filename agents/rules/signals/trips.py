"""Trips that do not go as booked: delayed, cancelled, stuck at the gate, a ride that never came."""

from __future__ import annotations

import re

from ticket_enricher.agents.rules.language import CLAUSE_END
from ticket_enricher.agents.rules.lexicons import TRIP as L_TRIP
from ticket_enricher.agents.rules.signals.airline import EVENTS, airline_slip, airline_wait, told_cancel, told_delay
from ticket_enricher.agents.rules.signals.reading import (
    _CLASS_GET,
    _ME,
    GOODS,
    HELD,
    MONEY,
    NUMBER,
    ONE_OFF_,
    ORDINAL,
    T_OTHER,
    T_WAKE,
    TRIP,
    TRIP_BAD,
    Reading,
)
from ticket_enricher.agents.rules.signals.trip_waits import clock_slip, flight_number, trip_wait
from ticket_enricher.agents.rules.signals.whose import someone_elses

_COMES = frozenset({"bus", "train", "taxi", "cab", "driver", "ride", "coach", "shuttle", "pickup", "uber", "car"})
_RUNNING = frozenset({"trains", "buses", "flights", "trams", "ferries", "planes", "coaches", "tubes"})


def trip_disrupted(r: Reading) -> int:
    """A trip delayed, cancelled or stuck: "flight delayed", "train cancelled", "stuck on the tarmac", "ride
    cancelled on me", "#flightcancelled"; not one the customer cancelled ("I cancelled the ride")."""
    for i in r.hashtags:
        w = r.words[i]
        if ("flight" in w or "plane" in w or "train" in w) and ("cancel" in w or "delay" in w or "strand" in w):
            return i  # "#cancelledflight", "#delayedagain" is not enough: the trip must be in the tag
    if not r.mask & TRIP and all(r.words[i] in _LIGHT for i, m, _ in r.hits if m & T_OTHER):
        starts = [i for i, m, _ in r.hits if m & T_WAKE]
        if starts and (k := _kept_waiting(r, starts)) >= 0:
            return k  # "sitting at B22 for three hours now", "deplaned, waiting for a new aircraft"
        return _unnamed_trip(r)  # no word of travel or waiting, at most a cancellation: nothing to wait for
    if (k := _kept_waiting(r)) >= 0 or (k := trip_wait(r)) >= 0 or (k := clock_slip(r)) >= 0 or \
            (k := airline_wait(r)) >= 0 or (k := airline_slip(r)) >= 0:
        return k
    words = r.words
    for i, _, _ in r.hits if r.mask & T_OTHER else ():
        w = words[i]
        if w in ("board", "boarded", "boarding") and r.negated(i, 3) and r.word(i - 1) not in (
                "the", "a", "your", "priority", "group", "zone", "early", "pre", "fast", "online", "mobile", "on"):
            return i  # not boarded: "they didn't board us", "wouldn't let us board"
    if not r.mask & TRIP:
        return _unnamed_trip(r, slip=False)
    if "moving" in words:
        i = words.index("moving")
        if r.negated(i, 2) and r.in_sentence(i, L_TRIP):
            return i  # "sat on this train for an hour not moving"
    for i, m, _ in r.hits:
        if words[i] == "no" and r.word(i + 1) in _RUNNING:
            return i  # "no trains into Preston for a few hours", "no buses tonight"
        if m & TRIP and words[i] in _COMES:
            for j in range(i + 1, min(r.n, i + 5)):
                if words[j] in ("showed", "show", "turned", "came", "come", "arrived", "arrive") and (
                        r.word(j - 1) in ("never", "yet") or r.negated(j, 2)):
                    return i  # "the bus never showed up", "my driver didn't turn up"
    if not r.mask & TRIP_BAD:
        return -1
    for i, m, s in r.hits:
        if not m & TRIP_BAD:
            continue
        if told_cancel(r, i, s):
            return i  # "@x Cancellations all day and not one agent at the desk"
        if not r.smask[s] & TRIP:
            if not r.negated(i) and (_timed_delay(r, i, s) or flight_number(words, i)):
                return i  # "@x BR11 from LAX delayed over 3 hours. Will my connection wait?"
            continue
        w = words[i]
        if r.negated(i) or r.cls(i + 1) & GOODS:
            continue  # also "my delayed parcel": goods, not a trip
        if r.near(i, TRIP, 8, 8) < 0:
            if _timed_delay(r, i, s) or flight_number(words, i) or _owned_far(r, i, s):
                return i  # "delayed 3 hours and counting", "4 hour delay in Chicago", "my flight out of Newark
                # tomorrow morning at 6am just got cancelled"
            continue
        if w == "pushed" and "back" not in words[i + 1:i + 4] and r.word(i - 1) not in (
                "getting", "keeps", "been", "got", "being") and r.word(i + 1) not in ("again", "to", "until", "till"):
            continue  # "our flight was pushed back", "pushed our departure back", not "I pushed the flight button"
        if r.word(i - 1) == "be" and (r.word(i - 2 - (r.word(i - 2) in ("my", "the", "it", "flight", "train"))) in (
                "will", "might", "could", "would", "may") or r.word(i - 2) == "to" and r.word(i - 3) == "going") or \
                "will" in words[max(0, i - 5):i] and "?" in words[i:]:
            continue  # a question about what may happen: "will my flight be delayed?", "is it going to be cancelled?"
        if w.startswith("cancel") and not EVENTS.isdisjoint(words[max(0, i - 3):i]) or someone_elses(r, i):
            continue  # "our wedding got cancelled", "my sister's flight got cancelled"
        if w.startswith("cancel") and r.word(i - 1) == "noise":
            continue  # "noise cancelling headphones"
        if w in ("missed", "miss", "missing") and (r.word(r.near(i, TRIP, 0, 3)) in (
                "connection", "connections", "connecting", "transfer", "layover") or "because" in words[i + 1:i + 8]
                and not {"delay", "delayed", "late"}.isdisjoint(words[i + 1:i + 14])):
            return i  # "I missed my connection", "missed my flight because the first leg was delayed"
        if (w.startswith("cancel") or w in ("miss", "missed", "missing")) and not _their_act(r, i):
            before = {words[j] for j in range(max(0, i - 3), i)}
            if before & {"i", "we", "i've", "we've", "i'd", "we'd", "i'll", "we'll", "please", "me", "can", "could",
                         "should", "want", "how"} or r.word(i - 1) == "to":  # not "flights to Denver cancelled"
                continue  # the customer's own: "I want to cancel my flight", "how do I cancel?"
        if w == "late" and (r.word(i + 1) in ("night", "notice", "fee", "fees", "payment", "checkout") or r.word(
                i - 1) in ("was", "were", "am", "i'm", "being") and r.word(i - 2) in (
                "i", "we", "was", "were", "he", "she", "they", "one") or r.word(i - 1) == "how" or r.word(
                i - 1) == "running" and r.word(i - 2) in ("i'm", "im", "we're", "am", "are", "was", "were")):
            continue  # also "they gave away my seat because I was 'late' to the gate": the customer was late
        j = r.near(i, TRIP, 8, 8)
        lo, hi = r.span(s)
        if words[j].endswith("s") and not any(words[k] in _ME for k in range(lo, hi)) and not (
                r.word(i - 1) in _COUNTED or r.word(i - 1).isdigit() or _CLASS_GET(r.word(i - 1), 0) & NUMBER):
            continue  # "flights have been cancelled": news, not the customer's trip; but "2 cancelled flights"
        if words[j] in ("transfer", "transfers", "connection", "booking") and r.smask[s] & MONEY or \
                words[j] == "transfer" and ("pending" in words[lo:hi] or sum(
                    1 for k in range(lo, hi) if r.cls(k) & TRIP) == 1 and "airport" not in words[lo:hi]):
            continue  # a money transfer cancelled or stuck is no trip
        return i
    return -1


_COMPANY = frozenset({"you", "they", "u", "y'all"})


def _their_act(r: Reading, i: int) -> bool:
    """Whether the company did the cancelling at `i`: "you cancelled", "how could you cancel my flight", "why did
    they have to cancel", "you had to cancel"; not a request or a how-to ("can you cancel my flight?", "how can
    you cancel a flight online?")."""
    words = r.words
    near = words[max(0, i - 4):i]
    if _COMPANY.isdisjoint(near):
        return False
    window = words[max(0, i - 6):i]
    return words[i].endswith("ed") or "had" in near or "why" in window or "how" in window and not {
        "could", "dare", "did"}.isdisjoint(window)


_HOURS = frozenset({"hour", "hours", "hr", "hrs", "minutes", "mins", "min", "an", "half"})
_DELAY = frozenset({"delay", "delays", "delayed"})


_WE_WERE = frozenset({"we", "were", "got", "been", "our"})  # "we were diverted to Shannon"


def _unnamed_trip(r: Reading, slip: bool = True) -> int:
    """Where a text that names no trip has a delay the customer sits through (`_timed_delay`) or was
    overbooked ("overbooked and they kicked me off"), or -1."""
    if r.mask & TRIP_BAD:
        for i, m, s in r.hits:
            if m & TRIP_BAD and not r.negated(i) and (_timed_delay(r, i, s) or r.words[i].startswith(
                    ("overbook", "oversold", "oversell")) and _theirs(r, i, s) or flight_number(r.words, i) or
                    r.words[i] == "diverted" and r.word(i + 1) == "to" and (not _WE_WERE.isdisjoint(
                        r.words[max(0, i - 3):i]) or _theirs(r, i, s))):
                return i  # also "KL1008 delayed", "BT602 Riga delayed since the morning", "we were diverted"
            if m & TRIP_BAD and (told_delay(r, i, s) or told_cancel(r, i, s)):
                return i  # "@jetblue delayed again", "3hr ground hold in Newark", "@x Cancelled. Again."
            if m & TRIP_BAD and r.words[i].startswith("cancel") and not r.negated(i) and (
                    _cancelled_on_us(r, i) or _cancelled_unnamed(r, i, s)):
                return i
    if slip and ((k := airline_wait(r)) >= 0 or (k := airline_slip(r)) >= 0):
        return k
    return clock_slip(r) if slip else -1  # (asked already when the text has a word of travel)


_COUNTED = frozenset({"another", "2nd", "3rd", "second", "third", "fourth", "two", "three", "four"})


def _owned_far(r: Reading, i: int, s: int) -> bool:
    """A trip the customer owns earlier in the sentence, cancelled or delayed further on, passive: "my flight out of
    Newark tomorrow morning at 6am just got cancelled"."""
    words = r.words
    lo, _ = r.span(s)
    return words[i].endswith("ed") and r.word(i - 1) in ("got", "been", "was", "were", "is", "be", "just") and any(
        words[k] in ("my", "our") and _CLASS_GET(r.word(k + 1), 0) & TRIP for k in range(max(lo, i - 16), i - 8))


_REBOOK = frozenset({"rebook", "rebooked", "rebooking", "rebooks", "re-book", "re-booked"})
_REBOOKED = frozenset({"", "me", "us", "my", "our", "on", "onto", "for", "after", "anyone", "everyone"})


def _cancelled_on_us(r: Reading, i: int) -> bool:
    """A cancellation that fell on the customer where no trip is named: "you cancelled us", "we got cancelled on",
    "won't let me rebook after the cancellation"; not the customer's own ("I cancelled and rebooked my hotel")."""
    words = r.words
    if words[i].startswith("cancel") and r.word(i + 1) == "again" and _theirs(r, i, r.sentence_of(i)):
        return True  # "@x Cancelled again!!"
    if words[i].startswith("cancell") and words[i].endswith("ed") and (r.word(i + 1) in ("us", "me") and r.word(
            i - 1) in _COMPANY or r.word(i + 1) == "on" and r.word(i - 1) in ("got", "been", "get", "getting")):
        return True
    rebooked = not _REBOOK.isdisjoint(words) and any(
        w in _REBOOK and (r.word(k + 1) in _REBOOKED or r.word(k + 1) in CLAUSE_END) for k, w in enumerate(words))
    return rebooked and r.word(i - 1) not in ("i", "we") and not _ME.isdisjoint(words) and (
        words[i] in ("cancellation", "cancellations", "cancelation") or words[i].endswith("ed"))


_CANCELLED = frozenset({"cancelled", "canceled", "cancellation", "cancellations", "cancelation", "cancelations"})
_LIGHT = _CANCELLED | {"supposed"}  # words of T_OTHER that name no wait: `_unnamed_trip` reads them alone
_OWN_ACT = frozenset({"i", "we", "i've", "we've", "i'd", "we'd", "i'll", "please", "want", "to", "can", "could", "how",
                      "should", "need", "request", "requested", "a", "my", "our", "your", "the"})


def _cancelled_unnamed(r: Reading, i: int, s: int) -> bool:
    """Where no trip is named: "cancelled" or "cancellations" told to a company by a customer who holds nothing
    else that could be cancelled ("@x cancelled and no hotel", "@x 4 hours on hold after the cancellation"); not
    the customer's own act or request ("I cancelled", "I want a cancellation"), nor an order, an account, money,
    or an event ("the show got cancelled")."""
    words = r.words
    if words[i] not in _CANCELLED or r.smask[s] & MONEY or not any(w.startswith("@") for w in words) or \
            _ME.isdisjoint(words) or not _OWN_ACT.isdisjoint(words[max(0, i - 2):i]) or not EVENTS.isdisjoint(words):
        return False
    return not any(r.cls(k) & (HELD | ONE_OFF_ | GOODS) and words[k] not in L_TRIP for k in range(r.n))


_TODAY = frozenset({"today", "tonight", "morning", "again", "day"})


def _timed_delay(r: Reading, i: int, s: int) -> bool:
    """A delay the customer sits through, in a sentence where nothing is sent or paid: counted in hours or
    minutes, theirs or with its subject left out ("delayed 3 hours and counting", "we've had a 2hr delay"), one
    more of them ("2nd delay today") or one that made them miss something ("the delay made me miss my
    meeting"); not "my parcel is delayed 2 hours", "the refund was delayed", "the game is delayed an hour"."""
    words = r.words
    pushed = words[i] == "pushed" and r.word(i + 1) == "back"
    if words[i] not in _DELAY and not pushed:
        return False
    lo, hi = r.span(s)
    if any(r.cls(k) & (GOODS | MONEY) for k in range(lo, i)):
        return False  # what is delayed is sent or paid: "my parcel is delayed 2 hours", "the refund was delayed"
    after, before = words[i + 1:i + 5], r.word(i - 1)
    timed = any(x in _HOURS or x[:1].isdigit() and x.endswith(("hr", "hrs", "h", "min", "mins")) for x in after
                if x != "an" or "hour" in after) or before in ("hour", "hr", "minute", "min") or \
        before[:1].isdigit() and before.endswith(("hr", "hrs", "h", "min"))
    if not timed:
        if pushed:
            return False
        if r.word(i + 1) == "again" and _theirs(r, i, s) or words[i] == "delayed" and r.word(i - 1) in (
                "says", "shows", "showing", "status", "reads") and not any(r.cls(k) & GOODS for k in range(lo, hi)):
            return True  # "@x delayed again.", "the board says delayed"
        if (r.word(i - 1) in ("rolling", "endless", "constant", "repeated", "continuous") or r.word(i - 1) == "the" and
                r.word(i - 2) in ("during", "of", "to") and r.word(i - 3) in ("during", "because", "due", "thanks")
                or r.word(i - 1) == "the" and r.word(i - 2) == "during") and not _ME.isdisjoint(words):
            return True  # "my 7pm is now 11:45pm. rolling delay all evening", "I missed it because of the delay"
        again = r.word(i - 1) in ("another", "2nd", "3rd", "4th") or _CLASS_GET(r.word(i - 1), 0) & ORDINAL or \
            r.word(i + 1)[:1] == "#" and r.word(i + 1)[1:].isdigit() or \
            words[i] == "delays" and (r.word(i - 1).isdigit() or _CLASS_GET(r.word(i - 1), 0) & NUMBER)
        if again and all(words[k].startswith("@") or words[k] in ("yet", "and", "so", "a") for k in range(lo, i - 1)) \
                and any(words[k] in _ME or words[k] in _TODAY for k in range(i, hi)):
            return True  # "2nd delay today", "yet another delay for us"; not "another delay for the album"
        return any(words[k] in ("miss", "missed", "missing") for k in range(i + 1, hi)) and any(
            words[k] in _ME for k in range(i + 1, hi))  # "the delay made me miss my meeting"
    return _theirs(r, i, s)


def _theirs(r: Reading, i: int, s: int) -> bool:
    """Whether the trip word at `i` is the customer's: a first person in its sentence, or nothing before it but
    handles and a duration ("@x delayed 3 hours", "4 hour delay in Chicago", "overbooked and...")."""
    words = r.words
    lo, hi = r.span(s)
    opens = i == lo or all(words[k].startswith("@") or words[k][:1].isdigit() or words[k] in (
        "hour", "hr", "minute", "min", "a", "another", "now", "been", "so", "still", "just") for k in range(lo, i))
    return opens or any(words[k] in _ME for k in range(lo, hi))


_WAITING = frozenset({"sitting", "sat", "sit", "waiting", "waited", "wait", "stuck", "stranded", "held", "holding",
                      "been"})
_GATE = re.compile(r"[a-z]\d{1,2}[a-z]?")  # a gate: "B22", "E4"
_ABOARD = frozenset({"gate", "tarmac", "plane", "runway", "aircraft", "jet", "train", "bus", "platform", "terminal",
                     "pilot", "pilots"})


def _at_least(word: str, least: int) -> bool:
    """Whether `word` is a number of at least `least` ("45"; words of number are not counted)."""
    return word.isdigit() and int(word) >= least


_KEPT = _WAITING | _REBOOK | {"stranded", "marooned", "off", "departed", "left", "moved", "boarded", "behind",
                              "deplaned", "deplane", "deplaning"}  # the words `_kept_waiting`'s forms start from


def _kept_waiting(r: Reading, starts: list[int] | None = None) -> int:
    """A trip that does not leave: "sitting at the gate for 2 hours", "waited on the plane an hour and still
    haven't taken off", "45 minutes behind schedule"; only from `starts` when given."""
    words = r.words
    for i in range(r.n) if starts is None else starts:
        w = words[i]
        if w not in _KEPT:
            continue
        if w in _WAITING and r.word(i + 1) in ("at", "on", "in", "for") and (
                not _ABOARD.isdisjoint(words[i + 2:i + 5]) or r.word(i + 1) == "at" and _GATE.fullmatch(
                    r.word(i + 2))) and (any(
                    x in ("hour", "hours", "hrs", "hr", "forever", "ages") or x in ("minutes", "mins", "min") and (
                        r.word(i + 1) != "for" or _at_least(words[k - 1], 30))
                    for k, x in enumerate(words[i + 2:i + 14], i + 2)) or "so long" in r.text.lower):
            return i  # "sitting at the gate for 2 hours", "waiting for the bus for 40 minutes" (not "for 10"),
            # "sitting at B22 for three hours now", "been on the tarmac so long I've finished my book"
        if w == "stuck" and r.word(i + 1) in ("at", "on", "in") and not _ABOARD.isdisjoint(words[i + 2:i + 4]) and \
                not r.negated(i, 2):
            return i  # "we're stuck at the gate", "stuck on the runway"
        if w in ("deplaned", "deplane", "deplaning") and not r.negated(i, 3):
            return i  # "mechanical issue, deplaned"
        if w in ("stranded", "marooned") and r.word(i + 1) in ("in", "at", "overnight") and r.word(i + 2) not in (
                "traffic", "snow", "rain", "mud", "elevator", "lift") or w.startswith("rebook") and (
                r.word(i + 1) in ("me", "us", "passengers", "everyone") or r.word(i - 1) in (
                    "got", "been", "was", "get", "getting") or r.word(i - 1) == "to" and r.word(i - 2) in (
                    "had", "have", "having") or w == "rebooked" and (i == 0 or r.word(i - 1).startswith("@")) and
                r.word(i + 1) in ("on", "onto", "to", "for") and r.near(i, TRIP, 0, 4) >= 0):
            return i  # "stranded in Denver", "you rebooked me", "I got rebooked", "I had to rebook", "@x rebooked
            # on a flight 2 days later"
        if w in ("off", "departed", "left", "moved", "boarded") and r.word(i - 1) in ("taken", "took", "take") + (
                "yet", "not", "haven't", "hasn't") and r.negated(i, 3) or w == "behind" and r.word(i + 1) == "schedule":
            return i
    return -1
