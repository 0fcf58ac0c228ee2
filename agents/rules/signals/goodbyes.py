"""Leaving told as a goodbye to a company named or addressed, in the words a telco's customers use when they have
decided: "I'm leaving @x after 15 years", "cancelling my Sky", "finished with Comcast", "I'm off to Virgin",
"calling to cancel tomorrow", "just want out", "returning the router today", "my final month with you", "cya @x",
"I'd like my account closed". Each needs the company (or "you") or the customer's own act; the words are common,
so a text is searched for them by a pattern first (`says_goodbye`)."""

from __future__ import annotations

import re

from ticket_enricher.agents.rules.language import CLAUSE_END
from ticket_enricher.agents.rules.lexicons import BRANDS
from ticket_enricher.agents.rules.signals.reading import GOODS, HELD, ONE_OFF_, TRIP, Reading, named
from ticket_enricher.agents.rules.signals.whose import KIN

_GOODBYE = re.compile(
    r"leaving @|cancel+(?:ing|ling)? (?:my |our )?@?[a-z]|(?:finished|done|through) with |(?:off|heading|headed|gone|"
    r"going|moving|switching|porting|jumping) (?:back |over )?to |(?:call|ring|phon)\w* (?:\w+ )?(?:\w+ )?to "
    r"(?:cancel|leave|terminate|disconnect)|wants? out|i'?m out\b|we'?re (?:finished|done)\b|"
    r"return\w* (?:all )?(?:the |my |your )?\w*\s?(?:router|modem|box|equipment|hub|dish|receiver)|"
    r"(?:last|final) (?:month|bill|week|day) with|"
    r"\bcya\b|see ya|adios|farewell|is history|(?:closed|cancell?ed|terminated|disconnected|deactivated)\b|"
    r"(?:leaving|going) (?:anyway|regardless)|still leaving|decided to go\b|surrender|leav\w* \w+ (?:media|mobile|"
    r"broadband|telecom)|porting|to get out|consider this notice|(?:terminat|cancel|leav|quit)\w* at the end of|"
    r"(?:lines|numbers|phones|money|savings|everything|accounts) (?:to|from|out of) |\bleav(?:e|ing) [a-z]|"
    r"had a good run|(?:i'?m|we'?re) switching\b|change (?:the |my |of )?company|going with (?:literally )?(?:anyone|"
    r"someone|somebody|another)|need (?:your|the|my|any)|for good|permanently|definitively|way out of|renewal|"
    r"prolongation")

_NOT_COMPANY = frozenset({"target", "walmart", "amazon", "apple", "google", "costco", "delta", "united", "metro",
                          "three", "the", "a", "an", "my", "bed", "work", "school", "sleep", "town", "london"})
_ADD_ON_AFTER = frozenset({"sports", "cinema", "movies", "add-on", "addon", "bolt-on", "boost", "premium", "kids",
                           "order", "orders", "delivery", "subscription", "plan", "box", "account", "trial"})
_SUBJECT = frozenset({"i", "i'm", "im", "we", "we're", "i'll", "we'll", "i've", "we've", "am", "me", "us"})
_KINDS = frozenset({"telecom", "mobile", "broadband", "fibre", "fiber", "wireless", "internet", "telco", "bank",
                    "energy", "networks", "cable"})
_MOVES = frozenset({"off", "heading", "headed", "gone", "going", "moving", "switching", "porting", "jumping"})
_CALLS = ("call", "ring", "phon")
_ENDING = frozenset({"cancel", "leave", "terminate", "disconnect"})
_EQUIPMENT = frozenset({"router", "modem", "box", "equipment", "hub", "dish", "receiver"})
_SWAP = frozenset({"new", "replacement", "faulty", "broken", "swap", "exchange", "upgrade", "wrong", "replace",
                   "defective", "damaged"})
_FAREWELLS = frozenset({"cya", "adios", "farewell"})
_CLOSED = frozenset({"closed", "cancelled", "canceled", "terminated", "disconnected", "deactivated"})
_WISHING = frozenset({"like", "want", "wanted", "need", "needs", "get", "have"})
_HOLDINGS = frozenset({"account", "accounts", "service", "services", "contract", "line", "lines", "broadband",
                       "internet", "connection", "number", "plan", "subscription", "membership", "everything"})


def says_goodbye(lower: str) -> bool:
    """Whether a text (lower case) may hold a goodbye: the cheap test that wakes the leaving detector."""
    return _GOODBYE.search(lower) is not None


def _company(r: Reading, k: int) -> bool:
    """The word at `k` names a company the customer may leave: a handle, or a brand that is no place or shop."""
    x = r.word(k)
    return named(x) and x not in _NOT_COMPANY and r.word(k + 1) not in _ADD_ON_AFTER and \
        not r.cls(k + 1) & (ONE_OFF_ | GOODS)


_CALENDAR = frozenset({"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "january",
                       "february", "march", "april", "may", "june", "july", "august", "september", "october",
                       "november", "december", "christmas", "xmas", "easter", "i", "i'm", "god", "mom", "mum", "dad"})
_SETTINGS = frozenset({"mode", "version", "app", "browser", "setting", "settings", "tab", "view", "theme", "button",
                       "option", "menu", "layout", "format", "edition", "time", "timezone"})
_FIXED = frozenset({"fixed", "helped", "worked", "works", "solved", "sorted", "resolved"})
_CARRY = frozenset({"moving", "move", "taking", "take", "bringing", "porting", "port", "switching", "switch",
                    "transferring", "transfer"})
_LINES = frozenset({"lines", "numbers", "phones"})
_MOVED = _LINES | {"money", "savings", "everything", "accounts"}  # money only "out of" a bank, moved or taken
_TAKE = frozenset({"moving", "move", "taking", "take", "pulling", "pull", "withdrawing"})
_MOVERS = _CARRY | _TAKE
_SWITCHES = frozenset({"switching", "switched", "switch", "porting", "ported", "port"})
# what a customer holds with a provider: beside "leaving X", it says X is one ("I'm leaving Shaw, will return the
# modem after"), not a city or an airport
_PROVIDED = _EQUIPMENT | {"contract", "provider", "broadband", "fibre", "fiber", "internet", "plan", "lines", "sim",
                          "number", "bill", "signal", "coverage", "wifi", "mbps", "tv", "landline", "data", "minutes",
                          "subscription", "account"}


def _proper(r: Reading, k: int) -> bool:
    """The word at `k` is written as a name mid-sentence ("Switching to Zen", "leaving Shaw"): capitalised, not the
    first of its sentence, no word of our classes nor of the calendar."""
    x = r.word(k)
    if k <= 0 or not x[:1].isalpha() or x in _CALENDAR or x in _NOT_COMPANY or r.cls(k) or r.word(k - 1) in (
            ".", "!", "?", ":", ";") or r.cls(k + 1) & (ONE_OFF_ | GOODS):
        return False
    return r.text.written(k)[:1].isupper()


def _moved_out(r: Reading, i: int) -> bool:
    """Lines, numbers or phones (at `i`) moved to, from or out of a provider, counted or with a verb of moving
    ("4 lines to T-Mobile", "moving both phones to mint mobile"), or money moved or taken out of a bank ("moving all
    my money out of Wells Fargo"); not money transferred between accounts."""
    nxt = r.word(i + 1)
    k = i + 2 if nxt in ("to", "from") else i + 3 if nxt == "out" and r.word(i + 2) == "of" else -1
    before = r.words[max(0, i - 4):i]
    if k < 0 or r.words[i] not in _LINES and not (nxt == "out" and not _TAKE.isdisjoint(before)):
        return False
    x = r.word(k)
    return (x in BRANDS or _proper(r, k) or x.startswith("@") or r.word(k + 1) in _KINDS and x.isalpha() and
            x not in _NOT_COMPANY) and (r.word(i - 1).isdigit() or not _MOVERS.isdisjoint(before))


_AFTER_NOW = frozenset({"after", "anymore", "from", "once"})
_PART_KEPT = frozenset({"just", "only", "keep", "keeping", "but"})
_FOR_GOOD = frozenset({"good", "permanently", "definitively", "forever"})
_ENDS = ("cancel", "clos", "terminat", "disconnect", "deactivat", "desactivat", "end", "stop", "shut")


def _plainly_leaving(r: Reading, i: int) -> int:
    """Leaving said plainly in a chat, or -1: "I'm switching, no need to call me with offers", "I will change the
    company", "going with literally anyone else", "I won't need your service after this month", "please disconnect
    it for good", "the cheapest way out of the contract", "I don't want the renewal"."""
    words, w, nxt = r.words, r.words[i], r.word(i + 1)
    if w in ("switching", "change", "changing", "going") and r.negated(i, 3):
        return -1  # "i dont want change company, just fix it"
    if w == "switching" and r.word(i - 1) in ("i'm", "im", "we're") and (nxt in CLAUSE_END or nxt in ("", "now")):
        return i
    if w in ("change", "changing") and "company" in words[i + 1:i + 3] and _mine(r, i):
        return i
    if w == "going" and nxt == "with" and not {"anyone", "someone", "somebody", "another"}.isdisjoint(
            words[i + 2:i + 4]):
        return i
    if w == "need" and r.negated(i, 2) and r.word(i - 1) not in ("you", "they") and any(
            r.cls(k) & HELD and words[k - 1:k + 1] != ["after", "all"] for k in range(i + 1, min(r.n, i + 6))) and \
            not _AFTER_NOW.isdisjoint(
            words[i + 1:i + 9]) and _PART_KEPT.isdisjoint(words[i + 1:]):
        return i  # "I won't need your service after this month"; not "I don't need the TV box anymore, just the
        # internet" (a part dropped, the rest kept)
    if w in _FOR_GOOD and (w != "good" or r.word(i - 1) == "for") and any(
            words[k].startswith(_ENDS) for k in range(max(0, i - 5), i)) and not r.negated(i, 6):
        return i
    if w == "way" and nxt == "out" and r.word(i + 2) == "of" and r.cls(r.next_content(i + 3, _DETS, 2)) & HELD:
        return i
    if w in ("renewal", "prolongation") and (r.negated(i, 4) or r.word(i - 1) == "no"):
        return i  # "I do not consent to any renewal", "I don't want prolongation"
    return -1


_DETS = frozenset({"my", "the", "this", "our", "a"})


def _mine(r: Reading, i: int) -> bool:
    """The verb at `i` is the customer's: a first person or "to" before it, or it opens a clause."""
    before = r.words[max(0, i - 3):i]
    if not KIN.isdisjoint(r.words[max(0, i - 6):i]):
        return False  # "my sister is leaving @x for Vodafone", "my brother keeps threatening to leave Vodafone"
    return not _SUBJECT.isdisjoint(before) or "to" in before or i == 0 or r.word(i - 1) in (
        ",", ".", "!", ";", ":", "and", "so") or r.word(i - 1).startswith("@")


def goodbye(r: Reading) -> int:
    """Where the text says goodbye to its company, or -1 (see the module)."""
    if not says_goodbye(r.text.lower):
        return -1
    words = r.words
    swap = not _SWAP.isdisjoint(words)
    for i, w in enumerate(words):
        nxt = r.word(i + 1)
        if (k := _plainly_leaving(r, i)) >= 0:
            return k
        if r.negated(i, 3) or r.word(i - 1) in ("you", "they", "u", "y'all", "if", "never"):
            continue
        if w in ("leaving", "leave", "quitting", "ditching", "cancelling", "canceling", "cancel", "dumping") and \
                _mine(r, i) and (_company(r, i + 1) or nxt in ("my", "our") and _company(r, i + 2) and w.startswith(
                    "cancel")):
            return i  # "I'm leaving @x after 15 years", "cancelling my Sky", "to cancel Eir"
        if w in ("finished", "done", "through") and nxt == "with" and (_company(r, i + 2) or r.word(i + 2) in (
                "you", "u", "y'all")) and r.word(i - 1) in ("", "i'm", "im", "we're", "am", "are", ".", ",", "so",
                                                            "officially", "completely", "totally", "now"):
            return i  # "Finished with Comcast.", "so done with you"
        if w in ("leaving", "leave", "cancelling", "canceling") and _mine(r, i) and _proper(r, i + 1) and (
                w.startswith("cancel") and not r.word(i + 1).endswith("'s") or not _PROVIDED.isdisjoint(words)) and \
                not r.mask & TRIP:
            return i  # "I'm leaving Shaw, will return the modem after", "Cancelling Disney+"; not "leaving Boston
            # tomorrow", "cancelling Sarah's party"
        k = i + 2 if nxt == "to" else i + 3 if nxt in ("back", "over") and r.word(i + 2) == "to" else -1
        if w in _SWITCHES and k > 0 and _mine(r, i) and (_proper(r, k) or r.word(k).startswith("@")) and \
                r.word(k + 1) not in _SETTINGS and _FIXED.isdisjoint(words[k:]):
            return i  # "Switching to Zen @Plusnet", "porting to @giffgaff"; not "switching to Dark Mode fixed it"
        if w in _MOVES and k > 0 and (r.word(k) in BRANDS and _company(r, k) or r.word(k + 1) in _KINDS and r.word(
                k) not in _NOT_COMPANY and r.word(k).isalnum()) and (w != "going" or r.word(i - 1) in (
                "i'm", "im", "we're", "am", "are", "", ".", ",", "!", "100%", "definitely", "def", "probably") or
                r.word(i - 1).isdigit()):
            return i  # "I'm off to Virgin", "going back to BSNL", "moving to Pure Telecom"; a brand or a provider
            # by its kind, not a handle ("off to @disneyland")
        if w.startswith(_CALLS) and (k := next((k for k in range(i + 1, i + 4) if r.word(k) == "to" and r.word(
                k + 1) in _ENDING), -1)) >= 0 and r.word(k + 2) not in ("a", "an", "this", "that", "the") and \
                not r.cls(k + 2) & (ONE_OFF_ | GOODS) and not r.cls(k + 3) & (ONE_OFF_ | GOODS):
            return i  # "Calling to cancel tomorrow", "ringing up tomorrow to cancel my Sky"; not "who do I call to
            # cancel a transfer?"
        if w in ("want", "wants") and nxt == "out" and r.word(i + 2) in ("", "of", ".", "!", ",", "now", "asap"):
            return i  # "just want out of TPG"
        if w in ("i'm", "im", "we're") and nxt == "out" and r.word(i + 2) in ("", ".", "!", ",", "now"):
            return i  # "I'm out, went to Telus today"
        if w in ("we're", "we") and (nxt in ("finished", "done") or nxt == "are" and r.word(i + 2) in (
                "finished", "done")) and r.word(i + 2 + (nxt == "are")) in ("", ".", "!", ","):
            return i  # "Virgin, we're finished"
        if w.startswith("return") and not swap and nxt in ("the", "my", "our", "your", "all", "this") and any(
                x in _EQUIPMENT for x in words[i + 2:i + 5]):
            return i  # "Returning the router at the UPS store today", "how do I return the Ignite box?"
        if w in ("last", "final") and nxt in ("month", "bill", "week", "day") and r.word(i + 2) == "with" and (
                _company(r, i + 3) or r.word(i + 3) in ("you", "u", "y'all")):
            return i  # "My final month with Virgin Media"
        if (w in _FAREWELLS or w == "see" and nxt == "ya") and any(_company(r, k) for k in (
                i - 2, i - 1, i + 1 + (w == "see"), i + 2 + (w == "see"))):
            return i  # "cya @EE"
        if w == "history" and r.word(i - 1) == "is" and _company(r, i - 2):
            return i  # "Salt is history for me"
        if w in _CLOSED and r.word(i - 1) in _HOLDINGS and r.word(i - 2) in ("my", "our") and \
                not _WISHING.isdisjoint(words[max(0, i - 5):i - 2]):
            return i  # "I'd like my account closed today", "I want my service terminated"
        if w in ("leaving", "going") and nxt in ("anyway", "regardless", "anyways") or w == "leaving" and r.word(
                i - 1) == "still" and nxt in ("", ".", "!", ","):
            return i  # "Keep the credit, I'm leaving anyway", "still leaving"
        if w == "go" and r.word(i - 1) == "to" and r.word(i - 2) == "decided" and nxt in ("", ".", "!", ","):
            return i  # "decided to go"
        if w.startswith("surrender") and nxt in ("my", "the", "our") and r.word(i + 2) in _HOLDINGS:
            return i  # "how do I surrender my connection?"
        if w in ("leave", "leaving") and _mine(r, i) and _company(r, i + 1) and r.word(i + 2) in _KINDS:
            return i  # "the quickest way to leave Virgin Media?"
        if w == "porting" and (i == 0 or r.word(i - 1) in (".", ",", "!", "i'm", "im", "we're", "and")) and nxt in (
                "", ".", "!", ",", "on", "too", "tomorrow", "today", "tonight", "next", "this", "out", "now"):
            return i  # "porting on monday", "Porting too @x"; not "porting my number to you"
        if w == "get" and nxt == "out" and r.word(i - 1) == "to" and r.word(i + 2) in (
                "", "?", ".", "!", ",", "early", "now", "asap") or w == "out" and r.word(i + 1).startswith("@") and \
                r.word(i - 1) == "get":
            return i  # "how much do I owe to get out?", "you want $200 to get out early?"
        if w == "notice" and r.word(i - 1) == "this" and r.word(i - 2) == "consider":
            return i  # "consider this notice"

        if w.startswith(("terminat", "cancel", "leav", "quit")) and nxt == "at" and words[i + 2:i + 5] == [
                "the", "end", "of"] and _mine(r, i) and not r.mask & TRIP:
            return i  # "I'll terminate at the end of the minimum term"
        if w in _MOVED and _moved_out(r, i):
            return i  # "4 lines to T-Mobile", "moving both phones to mint mobile", "porting 4 numbers out of Jio",
            # "moving all my money out of Wells Fargo"
        if w == "run" and r.word(i - 1) == "good" and r.word(i - 2) == "a" and r.word(i - 3) in ("had", "was") and \
                any(r.word(k) in ("you", "u", "y'all") or _company(r, k) for k in range(max(0, i - 6), i - 3)):
            return i  # "Verizon you had a good run"
    return -1
