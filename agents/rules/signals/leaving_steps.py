"""Leaving told as its steps rather than its verb: the cancellation or termination of what the customer holds,
the porting code, the notice given, the contract broken or bought out, "how do I cancel?". Telco customers
write this way, often in a second language ("I want to make the disdetta of my fiber line"); `escalation_cancel`
asks here when its own forms found nothing."""

from __future__ import annotations

from ticket_enricher.agents.rules.language import CLAUSE_END, SENTENCE_END
from ticket_enricher.agents.rules.lexicons import END_NOUNS
from ticket_enricher.agents.rules.signals.reading import _EMPTY, HELD, ONE_OFF_, T_CANCEL, Reading

_FEE = frozenset({"fee", "fees", "charge", "charges", "cost", "costs", "policy", "policies", "penalty", "penalties"})
_PAPER = frozenset({"letter", "form", "request", "notice", "confirmation", "email"})
_PORT_CODE = frozenset({"code", "authorization", "authorisation", "key", "number", "pin"})
_SOMEONE_HERE = frozenset({"you", "your", "u", "us"})
_ASKING = frozenset({"want", "wanna", "need", "how", "way", "like", "wish"})


def leaving_step(r: Reading) -> int:
    """Where the customer takes a step of leaving, or -1: "the termination of my contract", "process my
    cancellation", "where do I send the cancellation letter for my internet", "I need my porting code",
    "I'm porting to another network", "giving notice on my broadband", "leave before the end of my contract",
    "break the contract", "want out", "how do I cancel?"; not the cancellation of an order, a cancellation fee,
    or "how do I cancel the transfer?"."""
    words = r.words  # asked by escalation_cancel only, when the text has a T_CANCEL word
    held = any(r.cls(k) & HELD for k in range(r.n))
    one_off = any(r.cls(k) & ONE_OFF_ for k in range(r.n))
    for i, m, _ in r.hits:
        if not m & T_CANCEL or r.negated(i, 3):
            continue
        w, nxt = words[i], r.word(i + 1)
        if w in END_NOUNS and nxt not in _FEE and not one_off:
            j = r.next_content(i + 1, _EMPTY, 4) if nxt == "of" else -1
            if j >= 0 and r.cls(j) & HELD or r.word(i - 1) in ("my", "our") or nxt in _PAPER and held or w not in (
                    "cancellation", "cancelation", "termination", "disconnection"):
                return i  # "the termination of my contract", "process my cancellation", "the disdetta"
        elif w in ("porting", "port", "pac"):
            end = next((k for k in range(i + 1, min(r.n, i + 8)) if words[k] in CLAUSE_END), min(r.n, i + 8))
            if (nxt in _PORT_CODE or w != "pac" and nxt in ("to", "out", "over", "away", "my", "our")) and \
                    _SOMEONE_HERE.isdisjoint(words[i + 1:end]):
                return i  # "I need my porting code", "I'll be porting to Tesco Mobile"; not "porting my number to you"
        elif w in ("break", "breaking"):
            if r.word(r.next_content(i, _EMPTY, 3)) in ("contract", "contracts", "agreement"):
                return i  # "I want to break the contract"
        elif w in ("buyout", "buy-out"):
            if held:
                return i  # "the buyout figure for my contract"
        elif w in ("want", "wanna"):
            k = r.next_content(i + 2, _EMPTY, 3) if r.word(i + 2) == "of" else -1
            if nxt == "out" and (r.word(i + 2) in ("", *SENTENCE_END) or k >= 0 and r.cls(k) & HELD):
                return i  # "Want out.", "I want out of my contract"
        elif w == "notice":
            if r.word(i - 1) in ("give", "giving", "gave", "given", "hand", "handing", "handed") and held:
                return i  # "I'm giving notice on my broadband"
        elif w.startswith("leav"):
            if held and (nxt == "early" or nxt == "before" and "end" in words[i + 2:i + 5]):
                return i  # "what does it cost to leave before the end of my contract?"
        if w.startswith(("cancel", "terminat", "resiliat")) and not w.endswith(("ed", "ion")) and not one_off and (
                nxt == "" or nxt in CLAUSE_END) and r.word(i - 1) not in ("you", "they", "u") and \
                not _ASKING.isdisjoint(words[max(0, i - 4):i]):
            return i  # "How do I cancel?", "I want to cancel.", "the fastest way to terminate, ..."
    return -1
