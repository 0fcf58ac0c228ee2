"""Moving to someone else: switching to a rival, looking for a new provider, wishing one had chosen another; the
customer's own move, not money moved between accounts."""

from __future__ import annotations

from ticket_enricher.agents.rules import lexicons as L
from ticket_enricher.agents.rules.language import CLAUSE_END
from ticket_enricher.agents.rules.signals.failures import _PEOPLE
from ticket_enricher.agents.rules.signals.leaving import _NOT_THE_CUSTOMER, _PLACE_TOO
from ticket_enricher.agents.rules.signals.leaving_steps import staying
from ticket_enricher.agents.rules.signals.reading import (
    HELD,
    MONEY,
    PROVIDER,
    RIVAL,
    SWITCH,
    T_SWITCH,
    Reading,
    named,
)


def escalation_switch(r: Reading) -> int:
    """See `_switch`; not when the customer says they stay ("tempted by the offers, but I'm staying")."""
    i = _switch(r)
    return -1 if i >= 0 and staying(r) else i


def _switch(r: Reading) -> int:
    """Moving to someone else: "switching to @x", "move to another provider", "looking for a new carrier",
    "thinking of leaving", "wish I had used @x", "#flyXinstead", "competitors"."""
    words = r.words
    n = r.n
    for i in r.hashtags:
        w = words[i]
        if w.endswith("instead") and len(w) > 8:
            return i
    if not r.mask & T_SWITCH:
        return -1
    if (k := _idiom(r)) >= 0:
        return k
    for i, m, _ in r.hits:
        if not m & T_SWITCH:
            continue
        w = words[i]
        if m & SWITCH and r.negated(i, 2) and w.startswith(("switch", "go", "leav", "mov")) and (
                r.word(i - 2) == "not" and r.word(i - 3) in ("reason", "reasons", "why") or r.word(i - 1) == "not"
                and r.word(i - 2) == "to" and r.word(i - 3) in ("reason", "reasons")) and (
                not w.startswith("go") or r.word(i + 1) == "to" and named(r.word(i + 2))):
            return i  # "give me a reason not to switch", "a reason to not go to Salt"
        if w == "switched" and not _LONG_AGO.isdisjoint(words[max(0, i - 6):i + 8]):
            continue  # "it's been 5 years since I switched to @x", "switched to @x last year": a switch long done
        if m & SWITCH and not r.negated(i, 2) and not {words[j] for j in range(max(0, i - 2), i)} & _NOT_THE_CUSTOMER \
                and (_PEOPLE.isdisjoint(words[max(0, i - 4):i]) or "i" in words[max(0, i - 4):i]):
            j = r.next_content(i, _SWITCHED, 5)
            if j >= 0 and words[j] in ("to", "for"):
                k = r.next_content(j, frozenset({"a", "an", "the"}), 2)
                x = r.word(k)
                if named(x) and not w.startswith(("go", "went", "gone", "chang",
                                                                                 "transfer")) or \
                        _going_to(r, i, k) or _number_out(r, i, j, k) or \
                        x in ("bundle", "deal", "plan", "package", "contract", "offer") and r.word(k + 1) == "with" \
                        and named(r.word(k + 2)) or \
                        x in ("competitor", "competitors", "rival", "rivals", "competition") or \
                        x in ("another", "different", "other", "new", "a") and r.near(k, PROVIDER, 0, 2) >= 0 or \
                        x.startswith("@") and "instead" in words[k:k + 4] or \
                        x in ("my", "our") and r.word(k + 1) in ("old", "previous", "former") and (
                            r.cls(k + 2) & PROVIDER or r.word(k + 2) in L.BRANDS):
                    return i  # also "switching back to my old provider"
            if w.startswith(("switch", "chang")) and not r.negated(i, 4) and (r.cls(i + 1) & PROVIDER and r.word(
                    i + 1) not in (
                    "service", "services", "store", "shop", "platform") or words[i + 1:i + 2] == ["providers"]) and (
                    _PEOPLE.isdisjoint(words[max(0, i - 6):i]) or "i" in words[max(0, i - 6):i]):
                return i  # "switch carriers", "if I change provider"
            if w in ("switch", "change") and (r.word(i + 1) in CLAUSE_END or r.word(i + 1) in (
                    "", "now", "soon", "asap", "today", "then", "if", "unless") or w == "switch" and r.word(i + 1)
                                               == "over") and \
                    any(x in ("want", "wanna", "going", "gonna", "will", "i'll", "ready", "like", "need", "decided")
                        for x in words[max(0, i - 4):i]) and _WAS.isdisjoint(words[max(0, i - 4):i]):
                # not "I was going to switch but your offer convinced me"
                return i  # "now I want to switch", "I'm going to switch soon"
        if w.startswith(("go", "went")) and r.word(i + 1) == "with" and r.word(i + 2) in L.BRANDS and \
                not r.negated(i, 2):
            return i  # "we are going with BT"
        if w == "gone" and r.word(i - 1) in ("i'm", "im", "we're") and (
                r.word(i + 1) in ("", "forever", "on", "by", "tomorrow", "today", "next", "after", "in", "once") or
                r.word(i + 1) in CLAUSE_END) and not r.negated(i, 2):
            return i  # "my contract is up next month and I'm gone"
        if w in ("new", "another", "different", "other") and r.word(i + 1) in _NEW_ONES and (
                w == "new" and r.word(i - 1) in ("the", "my", "our") and r.word(i - 2) not in _IS or
                r.word(i - 1) == "to" and r.word(i - 2) in ("number", "numbers", "line", "lines")):
            return i  # "the new provider is handling the switch", "give the new company my number", "number to
            # other company"; not "you are my new provider"
        if w in ("new", "another", "different", "better", "other"):
            k = r.near(i, PROVIDER, 0, 4)  # "look around for new cable and internet provider"
            if k >= 0 and r.cls(i - 1) & MONEY or r.word(i - 2) in ("money", "funds", "cash"):
                continue  # "move money from another bank": the customer's money moves, not the customer
            if k >= 0 and (any(words[j].startswith(("switch", "chang", "look", "find", "shop", "get", "try",
                                                    "consider", "search", "go", "leav", "mov", "recommend",
                                                    "suggest", "know", "chose", "chos", "pick", "sign", "went",
                                                    "consolidat", "join"))
                               for j in range(max(0, i - 3), i) if words[j] not in ("for", "a", "an", "to")) or any(
                    words[j].startswith(("tak", "took")) for j in range(max(0, i - 4), i)) and r.word(i - 1) == "to"):
                # also "take my number to another network"
                if words[k] in ("service", "services", "store", "stores", "shop", "platform") and not any(
                        words[j].startswith(("switch", "look", "find", "search")) for j in range(max(0, i - 4), i)):
                    continue
                return i
        if (w in ("considering", "thinking", "might", "tempted", "planning") or w in ("ready", "time", "about")
                and r.word(i + 1) == "to") and not r.negated(i) and \
                _PEOPLE.isdisjoint(words[max(0, i - 4):i]):  # not "my friend is thinking of leaving Salt"
            for j in range(i + 1, min(n, i + 6)):
                x = words[j]
                if x in CLAUSE_END:
                    break
                if x.startswith("switch") or x in ("cancelling", "canceling", "elsewhere", "jumping") or x in (
                        "going", "moving") and r.word(j + 1) == "to" and named(r.word(j + 2)) and r.word(
                        j + 2) not in _PLACE_TOO and w != "about" or (
                        x.startswith("leav") and (r.word(j + 1) in ("you", "your", "u", "them", "")
                                                  or r.word(j + 1) in CLAUSE_END
                                                  or named(r.word(j + 1)) and w != "about"  # not "about to leave @LAX"
                                                  or r.cls(r.next_content(j)) & (PROVIDER | HELD))) or (
                        x == "new" and r.cls(j + 1) & PROVIDER and r.word(j + 1) not in ("service", "store")):
                    return i
        if w in ("wish", "should", "should've", "shoulda", "shouldve") and not r.negated(i, 2):
            for j in range(i + 1, min(n, i + 5)):
                x = words[j]
                if x in ("used", "chosen", "picked", "stayed", "flown", "booked", "bought", "gone", "went",
                         "ordered", "stuck"):
                    nx = r.word(j + 1)
                    if x in ("used", "chosen", "picked") and (nx.startswith("@") or r.cls(j + 1) & RIVAL) or \
                            nx in ("with", "from", "to") and (r.word(j + 2).startswith("@") or r.cls(j + 2) & RIVAL):
                        return i
                if x in CLAUSE_END:
                    break
        if w in ("competitor", "competitors") and not r.negated(i) and r.word(i - 1) not in ("our", "my"):
            return i
        if m & RIVAL and w in ("other", "another") and r.word(i + 1) in (
                "vendors", "providers", "carriers", "banks", "airlines", "companies", "options", "suppliers",
                "networks", "insurers", "isps") and any(words[j].startswith((
                    "look", "consider", "evaluat", "try", "go", "talk", "explor", "shop", "check", "switch"))
                    for j in range(max(0, i - 4), i)):
            return i
        if w == "instead" and r.word(i - 1).startswith("@") and i >= 2 and r.word(i - 2).startswith((
                "us", "fly", "go", "try", "order", "buy", "stick", "with", "from", "book", "shop", "choos")):
            return i
    return -1


def _going_to(r: Reading, i: int, k: int) -> bool:
    """ "I'm going (back) to Swisscom": a named company the customer goes to, not a place ("going to @LAX", "going
    to Target", "going to the Verizon store")."""
    x = r.word(k)
    return r.words[i] in ("going", "moving") and x in L.BRANDS and x not in _PLACE_TOO and r.word(i - 1) in (
        "i'm", "im", "we're", "am", "are") and r.word(k + 1) not in ("store", "stores", "shop", "website", "site",
                                                                      "app", "center", "centre")


_NOT_OUT = frozenset({"you", "u", "us", "me", "my", "our", "your", "new", "this", "that", "another", "a", "the", "it",
                      "sim", "esim", "phone", "iphone", "device", "line", "plan", "account"})


def _number_out(r: Reading, i: int, j: int, k: int) -> bool:
    """ "my number needs to be transferred to Lebara", "move my number to Tesco Mobile": the number leaves for a
    company; not to a new SIM, a phone, another line of the customer's, or to the company addressed."""
    x = r.word(k)
    return r.words[i].startswith(("transfer", "mov", "port")) and "number" in r.words[max(0, i - 5):j] and \
        x[:1].isalpha() and x not in _NOT_OUT and not r.cls(k) & HELD


# what a switch moves before "to": "switching my whole family plan to Google Fi"
_SWITCHED = frozenset({"over", "back", "my", "our", "service", "services", "business", "account", "number", "all",
                       "everything", "provider", "bank", "whole", "family", "plan", "plans", "lines", "line",
                       "phone", "phones", "broadband", "internet"})
_WAS = frozenset({"was", "were"})
_NEW_ONES = frozenset({"provider", "carrier", "company", "operator", "isp", "supplier", "telco"})
_IS = frozenset({"are", "is", "be", "you're", "become", "as", "for"})
_LONG_AGO = frozenset({"ago", "last", "since", "years", "year", "months"})
_IDIOM_TIME = frozenset({"", "now", "soon", "today", "tomorrow", "asap", "then"})
_IDIOM_STARTS = frozenset({"jump", "jumping", "jumped", "jumps", "alternative", "alternatives", "shop", "shopping",
                           "switching", "moving", "taking", "take", "took"})


def _idiom(r: Reading) -> int:
    """Leaving for a rival in set phrases, or -1: "jumping ship to @x", "looking for alternatives to @x", "time to
    shop around for a new broadband deal", "I'm switching back", "I'm moving over", "switching to T-Mobile"."""
    words = r.words
    for i, w in enumerate(words):
        if w not in _IDIOM_STARTS:
            continue
        nxt = r.word(i + 1)
        if w.startswith("jump") and nxt == "ship" and not r.negated(i, 2):
            return i  # "jumping ship to @ATT"
        if w in ("alternative", "alternatives") and (nxt in ("to", "than") and (named(r.word(i + 2)) or r.word(
                i + 2) in ("you", "u")) or any(x.startswith(("look", "find", "search", "consider", "recommend"))
                                               for x in words[max(0, i - 4):i]) and _to_provider(r)) and \
                not r.negated(i, 4):
            return i  # "looking for alternatives to @comcast"
        if w in ("shop", "shopping") and nxt == "around" and _to_provider(r) and not r.negated(i, 2):
            return i  # "time to shop around for a new broadband deal"
        if w in ("switching", "moving") and r.word(i - 1) in ("i'm", "im", "we're", "am", "are") and (
                nxt in ("back", "over") and (r.word(i + 2) in _IDIOM_TIME or r.word(i + 2) in CLAUSE_END) or
                nxt == "to" and r.word(i + 2) == "t" and r.word(i + 3) == "mobile") and not r.negated(i, 2):
            return i  # "I'm switching back", "I'm moving over", "switching to T-Mobile" (read as "t mobile")
        if w == "switching" and nxt == "off" and named(r.word(i + 2)):
            return i  # "I'm switching off @TMobile"
        if w in ("taking", "take", "took") and nxt in ("my", "our") and (k := i + 3 + r.word(i + 2).isdigit()) and \
                r.word(k) == "to" and r.word(k - 1) in (
                "lines", "line", "number", "numbers", "business", "account", "accounts", "family") and (
                named(r.word(k + 1)) or r.cls(k + 1) & RIVAL):
            return i  # "taking my 4 lines to Vodafone" (read "taking my lines to")
        if w == "switching" and i == 0 or w == "switching" and r.word(i - 1).startswith("@"):
            if nxt == "to" and r.word(i + 2) == "t" and r.word(i + 3) == "mobile":
                return i
    return -1


def _to_provider(r: Reading) -> bool:
    """Whether the text names a provider or what one sells, or addresses a company ("@x")."""
    return bool(r.mask & (PROVIDER | HELD)) or any(named(w) for w in r.words)
