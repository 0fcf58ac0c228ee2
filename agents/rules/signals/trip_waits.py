"""Waits that show a trip is not leaving, in the words travellers use when the word "delayed" never comes: hours
at the gate or on the tarmac, still on the runway, a departure that keeps slipping, a plane that left hours late.
Each is told by a duration and a place or a verb of leaving in one clause; the trip detector (`trips`) asks them."""

from __future__ import annotations

from ticket_enricher.agents.rules.language import CLAUSE_END
from ticket_enricher.agents.rules.signals.reading import GOODS, MONEY, TRIP, Reading

_UNITS = frozenset({"hour", "hours", "hr", "hrs", "minutes", "mins", "min"})
_COUNT = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
          "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "several": 3, "few": 2, "couple": 2, "half": 0.5}
# where a traveller waits for a trip that does not leave
_PLACES = frozenset({"gate", "tarmac", "runway", "terminal", "airport", "plane", "aircraft", "stand", "platform"})
_STILL_AT = frozenset({"gate", "tarmac", "runway", "stand", "plane", "aircraft"})
# a wait for a person or a line, not a trip: "on hold for 2 hours", "2 hours in the queue"
_NOT_TRIP = frozenset({"hold", "queue", "line", "phone", "call", "chat", "early", "shops", "lounge", "bar"})
_LEAVING = frozenset({"left", "leaving", "departed", "departing", "departure", "took", "taking", "landed",
                      "landing", "arrived", "arriving"})
_SLIPPING = frozenset({"slipping", "slipped", "keeps", "moved", "pushed", "later", "changed", "changing", "gone"})
_STARTS = _UNITS | {"still", "departure", "departures", "since", "till", "until"}  # the words a form starts from
_CLOCK = frozenset({"noon", "midnight", "morning", "lunch", "lunchtime", "dawn", "yesterday", "breakfast"})


def minutes(words: list[str], k: int) -> float:
    """The length in minutes of a duration whose unit is the word at `k` ("2 hours", "an hour", "90 mins",
    "2hrs"), or 0."""
    w = words[k]
    if w[:1].isdigit():  # "2hrs", "45min", "2h"
        digits = "".join(c for c in w if c.isdigit() or c == ".")
        unit = w[len(digits):]
        if digits and unit in ("h", "hr", "hrs", "hour", "hours"):
            return float(digits) * 60
        if digits and unit in ("m", "min", "mins", "minutes"):
            return float(digits)
        return 0
    if w not in _UNITS or k == 0:
        return 0
    n = words[k - 1]
    count = float(n) if n.replace(".", "", 1).isdigit() else _COUNT.get(n, 0)
    if n == "of" and k >= 2:  # "a couple of hours"
        count = _COUNT.get(words[k - 2], 0)
    return count * (60 if w.startswith("h") else 1)


def _clause(r: Reading, i: int) -> tuple[int, int]:
    """The clause around `i` (between marks that end a clause)."""
    words, lo, hi = r.words, i, i
    while lo > 0 and words[lo - 1] not in CLAUSE_END:
        lo -= 1
    while hi < r.n and words[hi] not in CLAUSE_END:
        hi += 1
    return lo, hi


def _since(words: list[str], k: int) -> bool:
    """ "since 6am", "since noon", "till 1am", "until midnight": a wait counted from or to the clock."""
    if words[k] not in ("since", "till", "until") or k + 1 >= len(words):
        return False
    x = words[k + 1]
    return x in _CLOCK or x[:1].isdigit() and (x.endswith(("am", "pm")) or ":" in x or x.isdigit())


def trip_wait(r: Reading) -> int:
    """Where a trip visibly does not leave, or -1: "90 minutes on the tarmac", "three hours at the gate", "sat in
    the terminal till 1am", "still on the runway", "the departure keeps slipping", "running 4 hours behind", "we
    left Denver 70 min late", "@x, 7 hours late"; not a wait on the phone or in a line, nor time gladly spent
    ("2 hours early at the airport, coffee time"), nor a person who is late ("I'm 2 hours late for work")."""
    words = r.words
    for k, w in enumerate(words):
        if w not in _STARTS and not w[:1].isdigit():
            continue
        if w == "still":
            j = k + 2 if r.word(k + 1) in ("sitting", "stuck", "waiting", "sat", "parked") else k + 1
            if r.word(j) in ("at", "on") and (r.word(j + 1) in _STILL_AT or r.word(j + 1) in ("the", "a") and (
                    r.word(j + 2) in _STILL_AT or r.word(j + 2) == "ground" and j > k + 1)):
                return k  # "still at the gate", "still on the runway", "still sitting on the ground"
            continue
        if w in ("departure", "departures") and any(x in _SLIPPING for x in words[k + 1:k + 7]) and \
                "gate" not in words[k + 1:k + 4]:
            return k  # "the departure keeps slipping", "our departure has been moved to tomorrow"
        span = minutes(words, k) or (60 if _since(words, k) else 0)
        if span < 30:
            continue
        lo, hi = _clause(r, k)
        if any(r.cls(j) & (GOODS | MONEY) for j in range(lo, k)) or words[k - 1] in ("on", "hold") or \
                "hold" in words[max(lo, k - 4):k]:
            continue  # what is delayed is sent or paid; a wait on hold is no trip
        nxt = r.word(k + 1)
        if nxt == "behind" and r.mask & TRIP:
            return k  # "the departure is running 4 hours behind"
        if nxt == "late":
            if any(x in _LEAVING for x in words[max(lo, k - 6):min(hi, k + 6)]):
                return k  # "left 4 hours late", "3 hours late leaving Bristol"
            first = k - 1 if words[k][:1].isalpha() else k  # the count before the unit
            if span >= 60 and all(words[j].startswith("@") or words[j] in _OPENERS for j in range(lo, first)):
                return k  # "@x, 7 hours late and no word"; not "I'm 2 hours late for work"
            continue
        if span >= 45 and r.text.compound < 0.3 and _NOT_TRIP.isdisjoint(words[lo:hi]) and any(
                x in _PLACES for x in words[max(lo, k - 6):min(hi, k + 7)]):
            return k  # "90 minutes on the tarmac", "zero updates for 2 hours at gate B7"
    return -1


_OPENERS = frozenset({"wow", "so", "now", "already", "and", "just", "another", "over", "almost", "nearly", "ugh",
                      "great", "lovely", "seriously", "again"})
