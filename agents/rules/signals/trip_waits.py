"""Waits that show a trip is not leaving, in the words travellers use when the word "delayed" never comes: hours
at the gate or on the tarmac, still on the runway, a departure that keeps slipping, a plane that left hours late.
Each is told by a duration and a place or a verb of leaving in one clause; the trip detector (`trips`) asks them."""

from __future__ import annotations

import re

from ticket_enricher.agents.rules.language import CLAUSE_END
from ticket_enricher.agents.rules.signals.reading import _ME, GOODS, MONEY, TRIP, Reading

_UNITS = frozenset({"hour", "hours", "hr", "hrs", "minutes", "mins", "min"})
_COUNT = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
          "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "several": 3, "few": 2, "couple": 2, "half": 0.5}
# where a traveller waits for a trip that does not leave
_PLACES = frozenset({"gate", "tarmac", "runway", "terminal", "airport", "plane", "aircraft", "stand", "platform",
                     "board", "onboard", "ground"})
_ABOARD_ONLY = frozenset({"board", "onboard", "ground"})  # a place only if not denied: not "wasn't on board"
_STILL_AT = frozenset({"gate", "tarmac", "runway", "stand", "plane", "aircraft", "ground"})
# a wait for a person or a line, not a trip: "on hold for 2 hours", "2 hours in the queue"
_NOT_TRIP = frozenset({"hold", "queue", "line", "phone", "call", "chat", "early", "shops", "lounge", "bar"})
_LEAVING = frozenset({"left", "leaving", "departed", "departing", "departure", "took", "taking", "landed",
                      "landing", "arrived", "arriving"})
_SLIPPING = frozenset({"slipping", "slipped", "keeps", "moved", "pushed", "later", "changed", "changing", "gone"})
_WAITING = frozenset({"waiting", "wait", "waited", "sat", "sitting", "held"})
_STARTS = _UNITS | _WAITING | {"there's", "theres", "there", "but", "atc", "ground", "flight", "boarding", "time",
                               "still", "departure", "departures", "since", "till", "until", "crew", "no", "back",
                               "returned", "returning", "return", "been"}  # the words a form starts from
# what a plane waits for before it can leave: "waiting on catering for an hour", "waiting for a slot"
_TRIP_NEEDS = frozenset({"mechanic", "mechanics", "engineer", "engineers", "crew", "pilot", "pilots", "catering",
                         "fuel", "paperwork", "slot", "tug", "de-icing", "deicing", "maintenance", "replacement",
                         "plane", "aircraft", "gate", "weight", "inbound", "passenger", "passengers"})
_A = frozenset({"a", "the", "our", "another", "new"})
_AGAIN = frozenset({"again", "time", "still"})  # "waiting on deicing for the third time"
_ROAD = frozenset({"car", "cars", "bike", "truck", "van", "motorbike", "scooter", "boiler", "washer", "garage"})
_NO_SHOW = frozenset({"plane", "aircraft", "pilot", "pilots", "jet"})  # "still no plane"
_CLOCK = frozenset({"noon", "midnight", "morning", "lunch", "lunchtime", "dawn", "yesterday", "breakfast"})


def _asks_ahead(r: Reading, k: int) -> bool:
    """Whether the sentence of `k` asks about what may come: "is the route expected to be affected by the strike?"."""
    lo, hi = r.span(r.sentence_of(k))
    return r.word(hi) == "?" and not {"will", "expected", "going", "might", "could", "would", "may"}.isdisjoint(
        r.words[lo:hi])


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
    for k in [k for k, w in enumerate(words) if w in _STARTS or w[:1].isdigit()]:
        w = words[k]
        if (w == "atc" and not r.negated(k, 3) or w == "ground" and r.word(k + 1) == "stop") and not _asks_ahead(r, k):
            return k  # "ATC restrictions again", "ground stop at DFW"; not "will the ATC strike affect us?"
        if w in ("still", "there's", "theres", "there", "but"):
            v = k + 1 if w == "there" and r.word(k + 1) in ("is", "was") else k  # "there is no plane"
            if r.word(v + 1) == "no" and (r.word(v + 2) in _NO_SHOW or w == "but" and r.word(v + 2) == "gate") and (
                    r.word(v + 3) in CLAUSE_END or r.word(v + 3) in (
                        "", "at", "yet", "here", "there", "to", "for", "in", "and", "but", "available")):
                return k  # "third gate change and still no plane", "the board says boarding but there's no plane"
            if w != "still":
                continue  # also "landed but no gate available"
            j = k + 2 if r.word(k + 1) in ("sitting", "stuck", "waiting", "sat", "parked") else k + 1
            if r.word(j) in ("at", "on") and (r.word(j + 1) in _STILL_AT or r.word(j + 1) in ("the", "a") and (
                    r.word(j + 2) in _STILL_AT or r.word(j + 2) == "ground" and j > k + 1)):
                return k  # "still at the gate", "still on the runway", "still sitting on the ground"
            continue
        if w in ("hour", "hr") and (r.word(k + 1).isdigit() or r.word(k + 1) in _COUNT) or w in ("hour", "hr") and (
                r.word(k - 1) in ("third", "fourth", "fifth", "sixth", "3rd", "4th", "5th", "6th")):
            if r.word(k + 2 - (not r.word(k + 1).isdigit() and r.word(k + 1) not in _COUNT)) in (
                    "on", "at", "in", "of", "now", "waiting", "stuck", "sitting", "and") or r.word(k + 1) in CLAUSE_END:
                return k  # "hour four on the tarmac", "hour 3 at gate 27", "5th hour at Calgary"
        if w == "no" and (k == 0 or r.word(k - 1) in CLAUSE_END or r.word(k - 1) in ("but", "and", "still")) and (
                r.word(k + 1) in _NO_SHOW or r.word(k + 1) in ("crew", "gate") and r.mask & TRIP) and (
                r.word(k + 2) in CLAUSE_END or r.word(k + 2) in ("", "yet", "available", "at", "here")):
            return k  # "no plane. no crew. no info.", "no gate, no plane, no answers"
        if w in ("back", "returned", "returning", "return") and r.word(k + 1) in ("to", "at") and r.word(
                k + 2) == "the" and r.word(k + 3) == "gate" and not r.negated(k, 3):
            return k  # "went back to the gate", "pushed back, sat, returned to the gate"
        if w in ("sat", "sitting") and r.word(k - 1) in ("plane", "flight", "leg", "aircraft", "jet") and (
                r.word(k + 1) in ("on", "in", "at", "for") or r.word(k + 1) in CLAUSE_END):
            return k  # "the first flight sat on the tarmac", "our plane sat in Atlanta with a mechanical"
        if w == "been" and r.word(k + 1) in ("here", "sitting", "waiting", "stuck", "in") and any(
                minutes(words, j) >= 60 for j in range(k + 1, min(r.n, k + 8))):
            return k  # "we've been here 3 hours", "been sitting for 2 hours", "been in our seats 70 mins"
        if w == "crew" and (r.word(k + 1) in ("timed", "timing") and r.word(k + 2) == "out" or r.word(k + 1) in (
                "ran", "run", "running", "is", "are") and "hours" in words[k + 2:k + 6] and "out" in words[k + 2:k + 4]
                and r.mask & TRIP):
            return k  # "now the crew timed out", "the crew ran out of hours"
        if w in _WAITING and r.word(k + 1) in ("on", "for") and r.word(r.next_content(k + 1, _A, 3)) in _TRIP_NEEDS \
                and _ROAD.isdisjoint(words) and (not {"now", "still"}.isdisjoint(words[max(0, k - 3):k]) or
                                                 "how long" in r.text.lower or not _AGAIN.isdisjoint(words) or any(
                    minutes(words, j) >= 30 for j in range(r.n))):
            return k  # "now we're waiting for a mechanic", "waiting on catering for an hour"
        if w in ("flight", "departure", "boarding") and r.word(k + 1) in ("time", "times") and any(
                x in _SLIPPING or x == "added" for x in words[k + 2:k + 5]) or w == "time" and r.word(k - 1) == \
                "departure" and "added" in words[max(0, k - 5):k]:
            return k  # "our flight time changed 4 times today", "another hour added to our departure time"
        if w in ("departure", "departures") and (any(x in _SLIPPING for x in words[k + 1:k + 7]) or any(
                x.startswith(("push", "moving", "moved", "delay")) for x in words[max(0, k - 3):k])) and \
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
                words[j] in _PLACES and not (words[j] in _ABOARD_ONLY and r.negated(j, 3))
                for j in range(max(lo, k - 6), min(hi, k + 7))):
            return k  # "90 minutes on the tarmac", "zero updates for 2 hours at gate B7"
    return -1


_OPENERS = frozenset({"wow", "so", "now", "already", "and", "just", "another", "over", "almost", "nearly", "ugh",
                      "great", "lovely", "seriously", "again"})


_FLIGHT_NO = re.compile(r"#?[a-z]{2,3}\d{2,4}")
_FLIGHT_NO_IN = re.compile(rf"(?<![a-z0-9]){_FLIGHT_NO.pattern}(?![a-z0-9])")  # one inside a text
_SLIP_CUES = re.compile(r"later than (?:scheduled|planned|expected)|past (?:departure|boarding)|time passed"
                        r"|supposed to|\d\s*(?:h|hrs?|hours?|mins?|minutes)\s+ago"
                        r"|was (?:at|due|scheduled|for|called|set|planned) (?:at |for )?\d"
                        r"|(?:now|it.?s)\s+(?:now\s+|at\s+|a\s+|says\s+|shows\s+|showing\s+|reads\s+)?\d"
                        r"|instead of \d|from \d[\d:.]*\s*(?:[ap]m)?\s+to \d|become a \d")


def flight_number(words: list[str], i: int, before: int = 3) -> bool:
    """Whether a flight number ("KL1008", "#AS1234") is among the `before` words before `i`."""
    return any(_FLIGHT_NO.fullmatch(words[k]) for k in range(max(0, i - before), i))


def _clock(words: list[str], k: int) -> int:
    """The index after a time of day starting at `k` ("7am", "11:45pm", "8:05 am", "20:20"), or -1."""
    w = words[k] if 0 <= k < len(words) else ""
    if not w[:1].isdigit():
        return -1
    if w.endswith(("am", "pm")) and w[:-2].isdigit():
        return k + 1
    if w.isdigit() and len(w) <= 2 and k + 2 < len(words) and words[k + 1] in (":", ".") and words[k + 2][:2].isdigit():
        return k + 4 if k + 3 < len(words) and words[k + 3] in ("am", "pm") else k + 3
    if w.isdigit() and k + 1 < len(words) and words[k + 1] in ("am", "pm"):
        return k + 2
    return k + 1 if w.isdigit() and int(w) <= 24 and k and words[k - 1] == "at" else -1  # "supposed to leave at 6"


_THEN = frozenset({"now", "at", "a", "says", "shows", "showing", "reads", "is"})


def _two_clocks(r: Reading, k: int, trip: bool) -> int:
    """At `k`, "instead of", "from ... to" or "become" between two times of day, the one the customer got 90
    minutes or more after the one they were promised: "got into Nashville at 3am instead of 11pm", "moved from
    10pm to 2am", "the 10:30 was going to become a 2:15"; -1 if not (or if it came sooner)."""
    words, w = r.words, r.words[k]
    if w == "instead" and r.word(k + 1) == "of" and _clock(words, k + 2) > 0:
        got = next((x for x in range(k - 1, max(-1, k - 4), -1) if _clock(words, x) > 0), -1)
        return k if got >= 0 and _hours_between(words, k + 2, got) >= 1.5 else -1
    if w == "from" and _clock(words, k + 1) > 0 and r.word(_clock(words, k + 1)) == "to" and (
            trip or not _SHIFTED.isdisjoint(words[max(0, k - 4):k])):
        to = _clock(words, k + 1) + 1
        return k if _clock(words, to) > 0 and _hours_between(words, k + 1, to) >= 1.5 else -1
    if w in ("become", "becomes") and r.word(k + 1) == "a" and _clock(words, k + 2) > 0:
        was = next((x for x in range(k - 1, max(-1, k - 8), -1) if _clock(words, x) > 0), -1)
        return k if was >= 0 and _hours_between(words, was, k + 2) >= 1.5 else -1
    return -1


_SHIFTED = frozenset({"moved", "pushed", "changed", "went", "switched", "bumped", "shifted"})


def _hour(words: list[str], k: int) -> float:
    """The hour of the day of the time at `k` (`_clock` found one there): "11:45pm" 23.75, "8:15" 8.25."""
    end = _clock(words, k)
    text = "".join(words[k:end])
    pm, am = text.endswith("pm"), text.endswith("am")
    digits = text.removesuffix("pm").removesuffix("am").replace(".", ":")
    h, _, m = digits.partition(":")
    hour = int(h) % 12 + (12 if pm else 0) if pm or am else int(h)
    return hour + (int(m[:2]) / 60 if m[:2].isdigit() else 0)


def _hours_between(words: list[str], a: int, b: int) -> float:
    """How many hours the time at `b` is after the one at `a`, on a 12-hour dial when neither says am or pm."""
    ha, hb = _hour(words, a), _hour(words, b)
    said = [words[x].endswith(("am", "pm")) for x in (_clock(words, a) - 1, _clock(words, b) - 1)]
    if all(said) or any(h > 12 for h, s in ((ha, said[0]), (hb, said[1])) if not s):
        return (hb - ha) % 24  # both say am or pm, or one is on the 24-hour dial
    return (hb % 12 - ha % 12) % 12


_NOW = frozenset({"now", "it's", "its"})
_STILL_WHERE = frozenset({"in", "at", "here", "there", "on", "sitting", "waiting", "stuck", "stranded", "no",
                          "standing", "stood", "sat"})
_SAID = frozenset({"said", "told", "say", "says", "promised", "announced", "would", "supposed"})
_SCHEDULED = frozenset({"flight", "departure", "boarding", "train", "bus", "plane", "connection"})
_OFF = frozenset({"leave", "depart", "take", "be", "board", "fly", "go", "land", "arrive", "boarding", "departing",
                  "leaving", "take-off", "takeoff"})


def clock_slip(r: Reading) -> int:
    """Where the clock shows a trip slipping, or -1: "my 7am flight is now 1pm", "the original departure was 8:05
    am and it's now 1:30 pm", "we were supposed to leave at 6. It's 9:40.", "supposed to be off at 6:50, we're
    still on the ground at 10", "departing 4h later than scheduled". Told only of a trip, or of a text addressed to
    a company by a first person ("my 3pm meeting is now 5pm" is no trip)."""
    lower = r.text.lower
    if not _SLIP_CUES.search(lower):
        return -1  # most texts: none of the words a slip is told with
    words = r.words
    trip = bool(r.mask & TRIP) or bool(_FLIGHT_NO_IN.search(lower))
    if not trip and not any(x.startswith("@") for x in words):
        return -1  # a slip is a trip's, or told to a company
    for k, w in enumerate(words):
        if w in ("instead", "from", "become", "becomes") and (j := _two_clocks(r, k, trip)) >= 0:
            return j  # "got in at 3am instead of 11pm", "moved from 10pm to 2am", "the 10:30 became a 2:15"
        if w == "later" and r.word(k + 1) == "than" and r.word(k + 2) in ("scheduled", "planned", "expected"):
            return k  # "now departing 4h later than scheduled"
        if w in ("past", "passed") and (r.word(k + 1) in ("departure", "boarding") or r.word(k - 1) == "time" and
                                         r.word(k - 2) in ("boarding", "departure")):
            return k  # "90 min past departure", "boarding time passed 1h ago"
        if w == "ago" and k >= 2 and minutes(words, k - 1) >= 30 and (any(
                x in _OFF for x in words[max(0, k - 9):k]) and not _SAID.isdisjoint(words[max(0, k - 12):k]) or any(
                x in ("left", "departed", "boarded") for x in words[max(0, k - 5):k]) and any(
                x in ("should", "should've", "shoulda") for x in words[max(0, k - 7):k]) and "still" in words):
            return k  # "they said the flight would leave in 30 mins 4 hours ago", "still sitting in Sydney, should
            # have left 3 hours ago"
        if w == "was" and r.word(k - 1) in _SCHEDULED and (
                _clock(words, k + 1 + (r.word(k + 1) in ("at", "due", "scheduled", "for"))) > 0 or r.word(k + 1) in (
                "due", "scheduled", "called", "set", "planned") and _clock(words, k + 3) > 0) and any(
                x == "still" and r.word(j + 1) in _STILL_WHERE for j, x in enumerate(words)):
            return k  # "it's 1am and we're still in Oslo. Flight was at 20:20."
        if w == "supposed" and r.word(k + 1) == "to" and r.word(k + 2) in _OFF and (trip or not _ME.isdisjoint(words)):
            end = next((j for j in range(k + 3, min(r.n, k + 8)) if _clock(words, j) > 0), -1)
            if end > 0 and any(x in ("still", "now", "it's", "its") for x in words[end:end + 12]):
                return k  # "we were supposed to leave at 6. It's 9:40."
        then = k + 1 + (r.word(k + 1) in _THEN)
        if w in _NOW and _clock(words, then) > 0 and any(_clock(words, x) > 0 for x in range(max(0, k - 8), k)):
            first = next(x for x in range(max(0, k - 8), k) if _clock(words, x) > 0)
            if r.mask & TRIP or words[first - 1] in ("my", "our") and _hours_between(words, first, then) >= 1.5:
                return k  # "my 7am flight is now 1pm", "my 8am from Vegas now says 1:40pm"; not "my 7pm is now 8pm"
        if w == "now" and _clock(words, then) > 0 and any(  # (a trip, or told to a company: the gate above)
                x == "was" and _clock(words, j + 1) > 0 and _hours_between(words, j + 1, then) >= 1.5
                for j, x in enumerate(words[then:then + 12], then)):
            return k  # "Edinburgh to Paris now says 19:55. it was 13:40."
    return -1
