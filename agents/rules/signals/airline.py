"""What a text told to an airline or at an airport means where no flight is named: "@jetblue delayed again", "Late
again @vueling", "3hr ground hold in Newark", "@x Cancelled. Again.". To an airline, "delayed" and "cancelled" say
the flight; elsewhere they may be a parcel, a refund, a meeting or a subscription. And what fails on board (the
plane's wifi, screens, power) is a bad flight, not an outage of a service the customer holds."""

from __future__ import annotations

from ticket_enricher.agents.rules.lexicons import AIRLINE_HANDLES, AIRLINES, AIRPORTS
from ticket_enricher.agents.rules.signals.reading import _ME, ACCOUNT, GOODS, HELD, MONEY, TRIP, Reading
from ticket_enricher.agents.rules.signals.trip_waits import _FLIGHT_NO, _clock, _hours_between
from ticket_enricher.agents.rules.signals.whose import news, someone_elses

_NOT_FLIGHTS = ("ios", "win", "ps", "mp", "gta", "rtx", "gtx", "fifa", "nba", "cod", "usb", "ddr", "lte", "wpa",
                "mac", "rx", "gt", "fw", "ver", "v")
_DELAYED = frozenset({"delay", "delayed", "late", "held", "stranded", "diverted", "grounded", "ground"})
_FIRST_SUBJECT = frozenset({"i", "i'm", "im", "we", "we're", "am", "i'll", "we'll"})
_NOT_LATE = frozenset({"night", "notice", "fee", "fees", "payment", "checkout", "check-in", "checkin", "check",
                       "booking", "bookings", "arrival", "arrivals", "lunch", "dinner", "breakfast", "shift"})
_WILL = frozenset({"will", "might", "could", "would", "may", "gonna", "expect", "expected", "expecting", "forecast",
                   "likely", "possible", "chance", "any"})


def _airline_handle(word: str) -> bool:
    name = word[1:]
    return name in AIRLINE_HANDLES or name.endswith(("air", "airlines", "airways", "airline")) or \
        name.startswith("fly") and len(name) > 5


def _flight_no(word: str) -> bool:
    return _FLIGHT_NO.fullmatch(word) is not None and not word.lstrip("#").startswith(_NOT_FLIGHTS)


def airline_context(r: Reading) -> bool:
    """Whether the text is told to an airline (its handle), names one or an airport, or has a flight number."""
    return any(w.startswith("@") and _airline_handle(w) or w in AIRLINES or w in AIRPORTS or _flight_no(w)
               for w in r.words)


def told_delay(r: Reading, i: int, s: int) -> bool:
    """Whether the word at `i` ("delayed", "late", "held", "ground hold"...) tells the customer's flight delayed,
    to an airline or at an airport: not negated, nothing sent or paid beside it ("my bag was delayed"), not the
    customer late ("I'm running late to the airport"), not a question about what may come ("will it be delayed
    tomorrow?"), not news nor someone else's story."""
    words, w = r.words, r.words[i]
    if w not in _DELAYED or r.negated(i) or w == "ground" and r.word(i + 1) not in ("hold", "stop"):
        return False
    if any(r.cls(k) & (GOODS | MONEY) for k in range(max(0, i - 3), min(r.n, i + 4))):
        return False
    if w == "stranded" and r.word(i + 1) in ("passengers", "people", "customers", "travelers", "travellers", "folks"):
        return False  # "stranded passengers": others, in general
    if w == "late" and (r.word(i + 1) in _NOT_LATE or r.word(i - 1) in ("day", "days", "week", "weeks") or
                        not _FIRST_SUBJECT.isdisjoint(words[max(0, i - 3):i]) or
                        r.word(i - 1) in ("too", "how", "so") and r.word(i - 2) in ("not", "never", "")):
        return False
    lo, hi = r.span(s)
    if not _WILL.isdisjoint(words[max(lo, i - 4):i]) and (r.word(hi) == "?" or "?" in words[i:hi + 1]):
        return False
    if news(r, s) or someone_elses(r, i) or _ME.isdisjoint(words) and w in ("held", "grounded", "stranded") and \
            not any(x.startswith("@") for x in words):
        return False
    return airline_context(r)


# what else gets cancelled that is no trip of the customer's: "the show got cancelled", "practice cancelled, yay"
EVENTS = frozenset({"show", "shows", "game", "games", "concert", "event", "events", "class", "classes", "meeting",
                    "school", "party", "match", "season", "series", "gig", "festival", "wedding", "practice",
                    "tour", "episode", "plans", "date", "appointment", "surgery", "lesson", "lessons", "exam"})
# before a cancellation, what makes it the customer's own act or a question ("how do I cancel", "I need to cancel",
# "if I cancel"), unless the company is its subject ("you had to cancel")
_OWN = frozenset({"i", "we", "i've", "we've", "i'd", "we'd", "i'll", "we'll", "please", "want", "wanna", "need",
                  "can", "could", "should", "how", "to", "if", "would", "noise", "free", "nearly", "almost"})
_PLANS = EVENTS | {"holiday", "holidays", "vacation", "hotel", "honeymoon", "stay", "cruise", "tickets"}
_COMPANY = frozenset({"you", "they", "u", "y'all", "ya", "guys"})
_DETERMINERS = frozenset({"my", "our", "the", "your", "this", "that", "a", "an", "his", "her", "their", "all", "of"})
_NOT_CALLED_OFF = frozenset({"fee", "fees", "policy", "policies", "insurance", "number", "request", "requests",
                             "form", "button", "option", "options", "link", "process", "terms", "rules", "charge"})


def told_cancel(r: Reading, i: int, s: int) -> bool:
    """Whether the word at `i` ("cancelled", "cancellations", "canceled"...) tells a flight called off on the
    customer, to an airline or at an airport: not negated, not the customer's own act or request ("how do I
    cancel?", "we'd like to cancel the return leg"), not a fee, policy or something held ("cancelled my card"),
    not an event ("our wedding got cancelled"), a question about what may come, news or someone else's story."""
    words, w = r.words, r.words[i]
    if not w.startswith("cancel") or r.negated(i):
        return False
    if not _OWN.isdisjoint(words[max(0, i - 3):i]) and _COMPANY.isdisjoint(words[max(0, i - 4):i]):
        return False
    if _not_a_flight(r, i) or not EVENTS.isdisjoint(words[max(0, i - 3):i]):
        return False  # "cancelled my card", "cancellation fee", "noise cancelling", "our wedding got cancelled"
    lo, hi = r.span(s)
    if "?" in words[i:hi + 1] and (not _WILL.isdisjoint(words[lo:i]) or "going" in words[lo:i]) or \
            "if" in words[lo:i]:
        return False  # "will flights be cancelled if the snow keeps up?", "is it going to be cancelled?"
    if news(r, s) or someone_elses(r, i) or _ME.isdisjoint(words) and not any(x.startswith("@") for x in words):
        return False
    return airline_context(r)


def _not_a_flight(r: Reading, i: int) -> bool:
    """Whether what is cancelled at `i` is named and no flight: a fee or policy ("cancellation fee"), something held
    or paid ("cancelled my card"), plans of the customer's ("cancelled the holiday"), "noise cancelling"."""
    k = i + 1
    while r.word(k) in _DETERMINERS:
        k += 1
    return r.word(i + 1) in _NOT_CALLED_OFF or r.word(i - 1) == "noise" or r.word(k) in _PLANS or k < r.n and bool(
        r.cls(k) & (GOODS | MONEY | HELD | ACCOUNT)) and not r.cls(k) & TRIP


# what a plane carries that can fail without the flight failing: a bad flight, not an outage
_ON_BOARD = frozenset({"wifi", "wi-fi", "wi", "fi", "internet", "tv", "tvs", "directv", "screen", "screens",
                       "entertainment", "ife", "movie", "movies", "video", "videos", "power", "outlet", "outlets",
                       "plug", "plugs", "usb", "stream", "streaming", "audio", "headphones", "seatback", "in-flight",
                       "inflight", "onboard"})
_ON_GROUND = frozenset({"terminal", "airport", "lounge", "gate", "app", "website", "site", "online", "check-in",
                        "checkin", "kiosk", "kiosks", "system", "systems", "home", "line", "lines"})


def on_board(r: Reading, i: int) -> bool:
    """Whether the failure at `i` is of what a plane carries (its wifi, screens, power outlets), told to airlines
    only ("@x no wifi for the whole flight"): not a service the customer holds, nor the airline's app, site or
    airport ("@Gogo wifi down on my flight", "@x your app is down")."""
    words = r.words
    lo, hi = r.span(r.sentence_of(i))
    if _ON_BOARD.isdisjoint(words[lo:hi]) or not _ON_GROUND.isdisjoint(words[lo:hi]):
        return False
    handles = [w for w in words if w.startswith("@")]
    return bool(handles) and all(_airline_handle(w) for w in handles)


_SPAN = frozenset({"hour", "hours", "hr", "hrs", "h", "minutes", "mins", "min"})
_NUMBER = frozenset({"an", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "twelve",
                     "several", "few", "many", "half", "another"})
_STILL = frozenset({"waiting", "waited", "wait", "sitting", "sat", "stuck", "held", "spent", "still",
                    "sleeping", "slept", "night", "overnight", "day", "tarmac", "taxiway", "apron", "runway",
                    "circling", "holding", "seats", "gate", "parked", "here", "later", "now", "past", "ago"})
# what else one waits for that is no flight: bags, a phone line, a queue, a refund, an app
_OTHER_WAITS = frozenset({"bag", "bags", "luggage", "baggage", "suitcase", "carousel", "phone", "call", "calls",
                          "hold", "chat", "email", "emails", "queue", "line", "lines", "security", "customs",
                          "immigration", "counter", "refund", "refunds", "app", "website", "site", "voucher", "points",
                          "miles", "wheelchair", "check-in", "checkin", "tsa", "agent", "rep", "reply", "response"})
_LENGTHS = frozenset({"flight", "flights", "trip", "journey", "drive", "layover", "ride", "connection", "nonstop",
                      "overnight", "red-eye", "redeye", "haul", "time", "hop"})
_SEATED = frozenset({"upright", "seat", "legroom", "recline", "next", "beside", "crying", "kicking", "wifi", "movie",
                     "movies", "screen"})  # a long flight's discomfort, not a wait
_CALLED_OFF = frozenset({"canned", "scrapped", "scrubbed", "axed", "nixed"})


def _duration(words: list[str], k: int) -> bool:
    """Whether a span of time ends at `k`: "3 hrs", "two hours", "an hour", "90 minutes", "5+ hours", "2h"."""
    w, before = words[k], words[k - 1] if k else ""
    if w[:1].isdigit() and w.rstrip("+").endswith(("hrs", "hr", "h")) and w.rstrip("+hrs").replace(".", "").isdigit():
        return True
    if w not in _SPAN:
        return False
    if w.startswith("h"):
        return before.rstrip("+").replace(".", "").isdigit() or before in _NUMBER
    return before.isdigit() and int(before) >= 40


def airline_wait(r: Reading) -> int:
    """Where a flight kept waiting or called off is told to an airline or at an airport, or -1: a span of an hour or
    more beside a word of waiting or a place of it ("2 hrs at DCA", "we've been in our seats 100 min", "nine
    hours. NINE. at LAS"), or a flight "canned", "scrapped" or "scrubbed"; not a wait for bags, a phone line, a
    queue or a refund."""
    words = r.words
    if not _OTHER_WAITS.isdisjoint(words):
        return -1
    k = _kept_or_called_off(r)
    return k if k >= 0 and airline_context(r) else -1  # the context last: most texts have no such span


def _kept_or_called_off(r: Reading) -> int:
    words = r.words
    for k, w in enumerate(words):
        if w in _CALLED_OFF and not r.negated(k):
            return k  # "flight got scrapped for crew availability", "yesterday canned"
        if not _duration(words, k) or r.negated(k) or r.word(k + 1) in _LENGTHS or not {"earlier", "early"}.isdisjoint(
                words[k + 1:k + 3]):
            continue  # "a 13 hour flight", "moved 5 hrs earlier", "arrived 40 minutes early"
        near = words[max(0, k - 8):k + 8]
        if (not _STILL.isdisjoint(near) or "been" in words[max(0, k - 4):k] or any(
                x in AIRPORTS for x in words[k + 1:k + 4])) and not news(r, r.sentence_of(k)) and \
                not someone_elses(r, k) and _SEATED.isdisjoint(near):
            return k  # "2 hrs at DCA", "it's been 3 hrs", "we've been in our seats 100 min"
    return -1


# between two times of day, what says the second replaced the first: "3:20 → 5:50", "the 7:00 became 7:45", "due out
# at 12:20. board now says 4:05", "was meant to go at 7:05, now saying 10:40"
_REPLACED = frozenset({"now", "says", "saying", "became", "becomes", "→", "->", ">", "pushed", "moved", "changed",
                       "estimated", "showing", "shows", "it's", "its"})
_TO_LATER = frozenset({"tbd", "tba", "midnight"})


def airline_slip(r: Reading) -> int:
    """Where a departure told to an airline or at an airport slips by the clock, or -1: two times of day 30 minutes
    or more apart with a word of replacing between them ("3:20 → 5:50", "flight was at 3:10. It's now 9"), or a
    time pushed to "TBD" or midnight ("went from 8am to TBD", "pushed to midnight")."""
    words = r.words
    clocks = [k for k in range(r.n) if words[k][:1].isdigit() and _clock(words, k) > 0]
    later = [k for k, w in enumerate(words) if w in _TO_LATER and r.word(k - 1) in ("to", "now", "says", "is")]
    if len(clocks) < 2 and not later or not airline_context(r):
        return -1
    for a, b in zip(clocks, clocks[1:], strict=False):
        if b - a <= 12 and not _REPLACED.isdisjoint(words[_clock(words, a):b]) and \
                _hours_between(words, a, b) % 12 >= 0.5:
            return b  # (on a 12-hour dial: "12:20 ... now says 4:05")
    for k in later:
        if any(0 < k - c <= 6 for c in clocks) or words[k] == "midnight" and r.word(k - 2) in ("pushed", "moved",
                                                                                               "delayed"):
            return k
    return -1
