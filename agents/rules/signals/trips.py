"""Trips that do not go as booked: delayed, cancelled, stuck at the gate, a ride that never came."""

from __future__ import annotations

from ticket_enricher.agents.rules.lexicons import TRIP as L_TRIP
from ticket_enricher.agents.rules.signals.reading import _ME, MONEY, T_OTHER, TRIP, TRIP_BAD, Reading

_COMES = frozenset({"bus", "train", "taxi", "cab", "driver", "ride", "coach", "shuttle", "pickup", "uber", "car"})
_RUNNING = frozenset({"trains", "buses", "flights", "trams", "ferries", "planes", "coaches", "tubes"})


def trip_disrupted(r: Reading) -> int:
    """A trip delayed, cancelled or stuck: "flight delayed", "train cancelled", "stuck on the tarmac", "ride
    cancelled on me"; not one the customer cancelled ("I cancelled the ride")."""
    if not r.mask & (TRIP | T_OTHER):
        return -1
    if (k := _kept_waiting(r)) >= 0:
        return k
    words = r.words
    for i, _, _ in r.hits if r.mask & T_OTHER else ():
        w = words[i]
        if w in ("board", "boarded", "boarding") and r.negated(i, 3) and r.word(i - 1) not in ("the", "a", "your"):
            return i  # not boarded: "they didn't board us", "wouldn't let us board"
    if not r.mask & TRIP:
        return -1
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
        if r.negated(i) or r.near(i, TRIP, 8, 8) < 0:
            continue
        if r.word(i - 1) == "be" and r.word(i - 2 - (r.word(i - 2) in ("my", "the", "it", "flight", "train"))) in (
                "will", "might", "could", "would", "may") or "will" in words[max(0, i - 5):i] and "?" in words[i:]:
            continue  # a question about what may happen: "will my flight be delayed?"
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
        if words[j] in ("transfer", "transfers", "connection", "booking") and r.smask[s] & MONEY or \
                words[j] == "transfer" and ("pending" in words[lo:hi] or sum(
                    1 for k in range(lo, hi) if r.cls(k) & TRIP) == 1 and "airport" not in words[lo:hi]):
            continue  # a money transfer cancelled or stuck is no trip
        return i
    return -1


_WAITING = frozenset({"sitting", "sat", "sit", "waiting", "waited", "wait", "stuck", "stranded", "held", "holding"})
_ABOARD = frozenset({"gate", "tarmac", "plane", "runway", "aircraft", "jet", "train", "bus", "platform", "terminal"})


def _kept_waiting(r: Reading) -> int:
    """A trip that does not leave: "sitting at the gate for 2 hours", "waited on the plane an hour and still
    haven't taken off", "45 minutes behind schedule"."""
    words = r.words
    for i, w in enumerate(words):
        if w in _WAITING and r.word(i + 1) in ("at", "on", "in") and not _ABOARD.isdisjoint(words[i + 2:i + 5]) and \
                any(x in ("hour", "hours", "hrs", "hr", "minutes", "mins", "min", "forever", "ages") for x in
                    words[i + 2:i + 10]):
            return i
        if w in ("stranded", "marooned") and r.word(i + 1) in ("in", "at", "overnight") and r.word(i + 2) not in (
                "traffic", "snow", "rain", "mud", "elevator", "lift") or w.startswith("rebook") and (
                r.word(i + 1) in ("me", "us", "passengers", "everyone") or r.word(i - 1) in ("got", "been", "was")):
            return i  # "stranded in Denver", "you rebooked me on tomorrow's flight", "I got rebooked"
        if w in ("off", "departed", "left", "moved", "boarded") and r.word(i - 1) in ("taken", "took", "take") + (
                "yet", "not", "haven't", "hasn't") and r.negated(i, 3) or w == "behind" and r.word(i + 1) == "schedule":
            return i
    return -1
