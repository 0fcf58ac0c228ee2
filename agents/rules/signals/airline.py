"""A delay told to an airline or at an airport where no flight is named: "@jetblue delayed again", "Late again
@vueling", "3hr ground hold in Newark", "BA1446 to Edinburgh now delayed to 21:40". To an airline, "delayed"
says the flight; elsewhere it may be a parcel, a refund or a meeting."""

from __future__ import annotations

from ticket_enricher.agents.rules.lexicons import AIRLINE_HANDLES, AIRLINES, AIRPORTS
from ticket_enricher.agents.rules.signals.reading import _ME, GOODS, MONEY, Reading
from ticket_enricher.agents.rules.signals.trip_waits import _FLIGHT_NO
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
