"""Trips that do not go as booked: delayed, cancelled, stuck at the gate, a ride that never came."""

from __future__ import annotations

from ticket_enricher.agents.rules.lexicons import TRIP as L_TRIP
from ticket_enricher.agents.rules.signals.reading import (
    _CLASS_GET,
    _ME,
    GOODS,
    MONEY,
    NUMBER,
    ORDINAL,
    T_OTHER,
    TRIP,
    TRIP_BAD,
    Reading,
)
from ticket_enricher.agents.rules.signals.trip_waits import trip_wait

_COMES = frozenset({"bus", "train", "taxi", "cab", "driver", "ride", "coach", "shuttle", "pickup", "uber", "car"})
_RUNNING = frozenset({"trains", "buses", "flights", "trams", "ferries", "planes", "coaches", "tubes"})


def trip_disrupted(r: Reading) -> int:
    """A trip delayed, cancelled or stuck: "flight delayed", "train cancelled", "stuck on the tarmac", "ride
    cancelled on me"; not one the customer cancelled ("I cancelled the ride")."""
    if not r.mask & (TRIP | T_OTHER):
        return _unnamed_trip(r)
    if (k := _kept_waiting(r)) >= 0 or (k := trip_wait(r)) >= 0:
        return k
    words = r.words
    for i, _, _ in r.hits if r.mask & T_OTHER else ():
        w = words[i]
        if w in ("board", "boarded", "boarding") and r.negated(i, 3) and r.word(i - 1) not in ("the", "a", "your"):
            return i  # not boarded: "they didn't board us", "wouldn't let us board"
    if not r.mask & TRIP:
        return _unnamed_trip(r)
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
        if not m & TRIP_BAD or not r.smask[s] & TRIP:
            continue
        w = words[i]
        if r.negated(i):
            continue
        if r.near(i, TRIP, 8, 8) < 0:
            if _timed_delay(r, i, s):
                return i  # "delayed 3 hours and counting", "4 hour delay in Chicago"
            continue
        if w == "pushed" and "back" not in words[i + 1:i + 4]:
            continue  # "our flight was pushed back", "pushed our departure back", not "I pushed the flight button"
        if r.word(i - 1) == "be" and r.word(i - 2 - (r.word(i - 2) in ("my", "the", "it", "flight", "train"))) in (
                "will", "might", "could", "would", "may") or "will" in words[max(0, i - 5):i] and "?" in words[i:]:
            continue  # a question about what may happen: "will my flight be delayed?"
        if (w.startswith("cancel") or w in ("miss", "missed", "missing")) and not _their_act(r, i):
            before = {words[j] for j in range(max(0, i - 3), i)}
            if before & {"i", "we", "i've", "we've", "i'd", "we'd", "i'll", "we'll", "please", "me", "can", "could",
                         "should", "want", "how"} or r.word(i - 1) == "to":  # not "flights to Denver cancelled"
                continue  # the customer's own: "I want to cancel my flight", "how do I cancel?"
        if w == "late" and r.word(i + 1) in ("night", "notice", "fee", "fees", "payment", "checkout"):
            continue
        j = r.near(i, TRIP, 8, 8)
        lo, hi = r.span(s)
        if words[j].endswith("s") and not any(words[k] in _ME for k in range(lo, hi)):
            continue  # "flights have been cancelled": news, not the customer's trip
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


def _unnamed_trip(r: Reading) -> int:
    """Where a text that names no trip has a delay the customer sits through (`_timed_delay`) or was
    overbooked ("overbooked and they kicked me off"), or -1."""
    if r.mask & TRIP_BAD:
        for i, m, s in r.hits:
            if m & TRIP_BAD and not r.negated(i) and (_timed_delay(r, i, s) or r.words[i].startswith(
                    ("overbook", "oversold", "oversell")) and _theirs(r, i, s)):
                return i
    return -1


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
        again = r.word(i - 1) in ("another", "2nd", "3rd", "4th") or _CLASS_GET(r.word(i - 1), 0) & ORDINAL or \
            words[i] == "delays" and (r.word(i - 1).isdigit() or _CLASS_GET(r.word(i - 1), 0) & NUMBER)
        if again and all(words[k].startswith("@") or words[k] in ("yet", "and", "so", "a") for k in range(lo, i - 1)) \
                and any(words[k] in _ME or words[k] in ("today", "tonight", "morning", "again") for k in range(i, hi)):
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


_WAITING = frozenset({"sitting", "sat", "sit", "waiting", "waited", "wait", "stuck", "stranded", "held", "holding"})
_ABOARD = frozenset({"gate", "tarmac", "plane", "runway", "aircraft", "jet", "train", "bus", "platform", "terminal",
                     "pilot", "pilots"})


def _at_least(word: str, least: int) -> bool:
    """Whether `word` is a number of at least `least` ("45"; words of number are not counted)."""
    return word.isdigit() and int(word) >= least


def _kept_waiting(r: Reading) -> int:
    """A trip that does not leave: "sitting at the gate for 2 hours", "waited on the plane an hour and still
    haven't taken off", "45 minutes behind schedule"."""
    words = r.words
    for i, w in enumerate(words):
        if w in _WAITING and r.word(i + 1) in ("at", "on", "in", "for") and \
                not _ABOARD.isdisjoint(words[i + 2:i + 5]) and any(
                    x in ("hour", "hours", "hrs", "hr", "forever", "ages") or x in ("minutes", "mins", "min") and (
                        r.word(i + 1) != "for" or _at_least(words[k - 1], 30))
                    for k, x in enumerate(words[i + 2:i + 10], i + 2)):
            return i  # "sitting at the gate for 2 hours", "waiting for the bus for 40 minutes" (not "for 10")
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
