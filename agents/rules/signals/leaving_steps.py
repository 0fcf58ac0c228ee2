"""Leaving told as its steps rather than its verb: the cancellation or termination of what the customer holds,
the porting code, the notice given, the contract broken or bought out, "how do I cancel?". Telco customers
write this way, often in a second language ("I want to make the disdetta of my fiber line"); `escalation_cancel`
asks here when its own forms found nothing."""

from __future__ import annotations

import re

from ticket_enricher.agents.rules.language import CLAUSE_END, SENTENCE_END
from ticket_enricher.agents.rules.lexicons import BRANDS, END_NOUNS
from ticket_enricher.agents.rules.signals.reading import (
    _EMPTY,
    END,
    HELD,
    MONEY,
    NEG,
    ONE_OFF_,
    T_CANCEL,
    Reading,
    named,
)

_FEE = frozenset({"fee", "fees", "charge", "charges", "cost", "costs", "policy", "policies", "penalty", "penalties"})
_PAPER = frozenset({"letter", "form", "request", "notice", "confirmation", "email"})
_FAKE = frozenset({"fake", "scam", "phishing", "bogus", "fraudulent", "spoof"})
_BANKING = frozenset({"bank", "banking", "payment", "payments", "money", "wire", "card"})
_PORT_CODE = frozenset({"code", "codes", "authorization", "authorisation", "key", "number", "pin", "pins"})
_SOMEONE_HERE = frozenset({"you", "your", "u", "us"})
_CAME = frozenset({"came", "coming", "come", "from"})  # a number ported in: "I came from Vi with MNP"
_ASKING = frozenset({"want", "wanna", "need", "how", "way", "like", "wish"})
_BARE_ASK = _ASKING | {"i", "we", "can", "if", "when", "to", "should", "after", "once", "before", "please", "pls",
                        "plz", "kindly"}  # "can I cancel?", "plz terminate"
_THIS = frozenset({"this", "it", "that", "your", "you", "the", "a"})  # what is not paid for: "not paying for this"
_AS_CUSTOMER = frozenset({"customer", "client", "member", "subscriber", "a"})


def leaving_step(r: Reading) -> int:
    """Where the customer takes a step of leaving, or -1: "the termination of my contract", "process my
    cancellation", "where do I send the cancellation letter for my internet", "I need my porting code",
    "I'm porting to another network", "giving notice on my broadband", "leave before the end of my contract",
    "break the contract", "want out", "how do I cancel?"; not the cancellation of an order, a cancellation fee,
    or "how do I cancel the transfer?"."""
    words = r.words  # asked by escalation_cancel only, when the text has a T_CANCEL word
    held = any(r.cls(k) & HELD for k in range(r.n)) or "term" in words  # "after my term": a contract's
    one_off = any(r.cls(k) & ONE_OFF_ for k in range(r.n))
    for i, m, _ in r.hits:
        if not m & T_CANCEL:
            continue
        w, nxt = words[i], r.word(i + 1)
        if w == "paying" and r.negated(i, 3) and r.word(i - 1) not in ("you", "they") and r.word(i - 3) != "you" \
                and any(x in ("anymore", "longer") for x in words[i + 1:i + 6]) and (nxt in ("you", "u") or nxt == "for"
                                                                                    and r.word(i + 2) in _THIS):
            return i  # "I'm not paying for this anymore"
        if r.negated(i, 3):
            continue
        if w in END_NOUNS and (r.word(i - 1) in _FAKE or w == "disconnection" and nxt in _PAPER):
            continue  # "a fake disconnection email", "got a disconnection notice": the company's threat, or a scam's
        if w in ("termination", "cancellation") and r.word(i - 1) == "early" and not one_off:
            return i  # "is there a fee for early termination?", "the early termination fee": leaving a contract early
        if w in ("mnp", "upc") and _SOMEONE_HERE.isdisjoint(words) and _CAME.isdisjoint(words) or \
                w == "disconnection" and r.word(i - 1) == "for" and not one_off:
            return i  # "process my MNP request", "give NOC for disconnection": India's words for porting out, leaving
        if w in END_NOUNS and nxt not in _FEE and not (one_off and _REQUEST.isdisjoint(words)) and not any(
                "option" in x or "opzion" in x or "zusatz" in x for x in words):
            j = r.next_content(i + 1, _EMPTY, 4) if nxt == "of" else -1
            if j >= 0 and r.cls(j) & HELD or r.word(i - 1) in ("my", "our") or nxt in _PAPER or w not in (
                    "cancellation", "cancelation", "termination", "disconnection"):
                return i  # "the termination of my contract", "process my cancellation", "the disdetta"
        elif w == "ported" and (nxt in ("out", "away", "to") or r.word(i - 1) in ("number", "numbers") and r.word(
                i - 3) in ("get", "have")) and not r.negated(i, 3) and r.word(i + 2) not in ("you", "u", "us"):
            return i  # "ported out yesterday, bye", "Ported to Visible and saving $60 a month"
        elif w in ("cancel", "disconnect", "terminate") and nxt in ("me", "us") and (
                r.word(i + 2) in CLAUSE_END or r.word(i + 2) in ("", "now", "please", "pls", "today")):
            return i  # "Disconnect me.", "cancel me"
        elif w.startswith(("cancel", "clos", "terminat", "disconnect")) and w.endswith("ed") and r.word(i - 1) in (
                "getting", "gets", "being", "be") and any(named(x) or r.cls(k) & HELD for k, x
                                                          in enumerate(words[max(0, i - 6):i], max(0, i - 6))) and \
                r.word(i - 2) not in ("you", "it") and _FOR_ME.isdisjoint(words[i + 1:i + 3]):
            return i  # "@DIRECTV is getting cancelled today", "my account needs to be closed by the 30th"
        elif w == "long" and r.word(i - 1) == "so" and (i < 2 or r.word(i - 2) in CLAUSE_END or r.word(
                i - 2).startswith("@")) and (named(nxt) or nxt == "," and i < 2 and any(
                    x.startswith("@") for x in words) or nxt == "and" and r.word(i + 2).startswith("thank") and (
                    held or not _EQUIPMENT.isdisjoint(words))):
            return i  # "So long @DIRECTV", "so long, and thanks for all the dropped calls @x"
        elif w == "remove" and nxt in ("me", "us") and r.word(i + 2) == "as" and r.word(i + 3) in _AS_CUSTOMER:
            return i  # "Remove me as a customer"
        elif w in ("porting", "port", "pac", "stac") or w == "transfer" and nxt == "pin" and _BANKING.isdisjoint(words):
            end = next((k for k in range(i + 1, min(r.n, i + 8)) if words[k] in CLAUSE_END), min(r.n, i + 8))
            onward = w in ("porting", "port") and nxt in ("to", "out", "over", "away", "my", "our", "all") or \
                w == "pac" and nxt == "to" and r.word(i + 2).isdigit()  # "texted PAC to 65075"
            if (nxt in _PORT_CODE or onward) and _SOMEONE_HERE.isdisjoint(words[i + 1:end]) and not ported_in(r, i):
                return i  # "I need my porting code", "I'll be porting to Tesco Mobile"; not "porting my number to you"
        elif w in ("break", "breaking"):
            if r.word(r.next_content(i, _EMPTY, 3)) in ("contract", "contracts", "agreement"):
                return i  # "I want to break the contract"
        elif w in ("buyout", "buy-out"):
            if held:
                return i  # "the buyout figure for my contract"
        elif w in ("want", "wanna"):
            k = r.next_content(i + 2, _EMPTY, 3) if r.word(i + 2) == "of" else -1
            if nxt == "out" and (r.word(i + 2) in ("", "and", "either", "now", *CLAUSE_END) or k >= 0 and r.cls(
                    k) & HELD):
                return i  # "Want out.", "I want out of my contract"
        elif w == "notice":
            gave = any(x in _GIVE for x in words[max(0, i - 5):i]) and _NOT_NOTICE.isdisjoint(words[i:i + 4])
            if gave and (held or "you" in words[max(0, i - 5):i]) or "my" in words[max(0, i - 4):i] and any(
                    x in ("consider", "this", "here's", "heres") for x in words[max(0, i - 6):i]):
                return i  # "I'm giving notice on my broadband", "giving you guys a month's notice", "consider this
                # my 30 day notice"
        elif w.startswith("leav"):
            if nxt == "for" and r.word(i + 2) in BRANDS and r.word(i + 2) not in ("delta", "united") and r.word(
                    i + 3) not in ("weeks", "days", "months", "hours", "years", "minutes", "nights") and \
                    not w.endswith("ed"):
                return i  # "Leaving for Three when my contract's up"
            if (held or r.mask & MONEY and nxt == "early") and (nxt == "early" or nxt == "before" and any(
                    x.startswith(("end", "expir")) for x in words[i + 2:i + 6])):
                return i  # "what does it cost to leave before the end of my contract?", "before my contract ends",
                # "the rest of my handset payments if I leave early"
        elif w in ("not", "don't", "dont", "won't", "wont") and (k := _not_going_on(r, i, held)) >= 0:
            return k
        if w.startswith(("cancel", "terminat", "resiliat", "disconnect")) and not w.endswith(("ed", "ion")) and \
                not one_off and _bare(r, i) and _ONE_OFF_TOO.isdisjoint(words) and r.word(i - 1) not in (
                "you", "they", "u") and (
                not _BARE_ASK.isdisjoint(words[max(0, i - 4):i]) or i == 0 or words[i - 1] in SENTENCE_END or
                words[i - 1].startswith("@")):
            return i  # "How do I cancel?", "Can I cancel online?", "if I cancel before the 24 months are up",
            # "Terminate please", "Cancel cancel cancel."
    return -1


_PHRASE = re.compile(r"no more |final bill|(?:pick up|come get|collect) your|return label")


def says_leaving_phrase(lower: str) -> bool:
    """Whether a text (lower case) holds one of the phrases `leaving_phrase` reads: a cheap substring test first,
    since their words are common ("more", "bill", "your")."""
    return ("more" in lower or "bill" in lower or "your" in lower or "label" in lower) and bool(_PHRASE.search(lower))


def leaving_phrase(r: Reading) -> int:
    """Leaving told in a phrase whose words are too common to start from, or -1: "No more @YouTubeTV for us",
    "please arrange the final bill", "you can come get your modem", "send me the return label". Looked for by
    substring first, so most texts cost one scan."""
    if not says_leaving_phrase(r.text.lower):
        return -1
    words = r.words
    for i, w in enumerate(words):
        nxt = r.word(i + 1)
        if w == "more" and r.word(i - 1) == "no" and named(nxt) and nxt not in (
                "delta", "united", "target", "apple", "amazon"):
            return i  # "No more @YouTubeTV for us"
        if w in ("come", "pick", "collect") and any(x in _EQUIPMENT for x in words[i + 1:i + 5]) and "your" in words[
                i + 1:i + 4] and not r.negated(i, 3):
            return i  # "come pick up your equipment", "you can come get your modem"
        if w == "bill" and r.word(i - 1) == "final" and not any(r.cls(k) & ONE_OFF_ for k in range(r.n)):
            return i  # "please arrange the final bill"
        if w in ("label", "labels") and r.word(i - 1) == "return" and r.mask & (HELD | T_CANCEL):
            return i  # "send me the box return label"
    return -1


# what may follow a verb of ending that has no object: "can I cancel online?", "how do I cancel with you?"
_BARE_AFTER = frozenset({"", "before", "online", "if", "when", "now", "early", "earlier", "today", "please", "pls",
                         "asap", "without", "by", "over", "via", "through", "here", "or", "and", "right",
                         "immediately", "then", "first", "cancel", "after"})


# what a bare "cancel" may be about besides a one-off: "a transaction to a wrong account, can I cancel?"
_ONE_OFF_TOO = frozenset({"transaction", "transactions", "purchase", "purchases", "item", "items", "card", "cards",
                          "payment", "payments", "charge", "charges", "refund", "ordered", "bought", "sent"})


def _bare(r: Reading, i: int) -> bool:
    """Whether the verb of ending at `i` has no object: what follows ends the clause or says how or when."""
    nxt = r.word(i + 1)
    return nxt in CLAUSE_END or nxt in _BARE_AFTER or nxt == "with" and (
        r.word(i + 2) in _SOMEONE_HERE or r.word(i + 2).startswith("@"))


# what the customer will not go on with: "I won't renew", "not planning to stay", "decided not to continue with you"
_GO_ON = frozenset({"renew", "renewing", "extend", "extending", "continue", "continuing", "stay", "staying",
                    "prolong", "prolonging", "recontract", "recontracting", "re-contract", "re-contracting"})
_EQUIPMENT = frozenset({"modem", "router", "box", "equipment", "receiver", "receivers", "dvr", "hub", "boxes",
                        "set-top", "cable", "dish", "remote"})
_FOR_ME = frozenset({"for", "me"})  # "it got cancelled for me": the company's doing
_NOT_NOTICE = frozenset({"landlord", "landlady", "employer", "boss", "job", "work", "flat", "apartment"})
_GIVE = frozenset({"give", "giving", "gave", "given", "hand", "handing", "handed"})
_BETWEEN = frozenset({"to", "planning", "going", "gonna", "be", "want", "wanting", "intend", "intending", "plan",
                      "please", "automatically", "auto", "i", "we", "will", "it", "this", "my", "the", "interested",
                      "in"})


def _not_going_on(r: Reading, i: int, held: bool) -> int:
    """Where a negation at `i` says the customer will not renew, continue or stay, or -1: "Please do not renew
    automatically", "not renewing.", "I have decided not to continue with your service", "not planning to stay";
    not the company's act ("you did not renew my card")."""
    words = r.words
    if r.word(i - 1) in ("you", "they", "u", "why", "did", "didn't", "it", "he", "she"):
        return -1
    j = r.next_content(i, _BETWEEN, 4)
    if j < 0 or words[j] not in _GO_ON:
        return -1
    after = r.word(j + 1)
    if words[j].startswith(("renew", "extend", "prolong", "recontract", "re-contract")):
        return j if held or after in CLAUSE_END or after in ("", "automatically") else -1
    if words[j].startswith("continu"):
        k = r.next_content(j + 1, frozenset({"your", "the", "this", "my", "our"}), 3) if after == "with" else -1
        return j if k >= 0 and (r.cls(k) & HELD or words[k] in _SOMEONE_HERE or words[k].startswith("@")) or (
            held and (after in CLAUSE_END or after in ("", "after"))) else -1
    return j if (held or any(x.startswith("@") for x in words)) and (
        after in CLAUSE_END or after in ("", "with", "as", "tbh", "longer", "on", "any")) else -1


# a customer who says they stay: "so I'm staying", "we'll stay with you", "keeping everything else"
_STAY = frozenset({"staying", "stay", "stayin"})
_REQUEST = frozenset({"request", "requesting", "requested"})  # "request permanent disconnection of my account"
_STAY_NOT = frozenset({"until", "till", "til", "for", "home", "up", "in", "at", "away", "only", "if", "unless"})
_NEAR = frozenset({"almost", "nearly", "thought", "considered"})
_LEFT = ("quit", "left", "leav", "cancel", "switch", "went", "walk", "drop")
_UNDO = ("revok", "revoc", "retract", "withdraw", "cancel", "annul", "undo", "zurück", "widerruf")
_THEIR_THE = frozenset({"la", "ma", "le", "mon", "die", "meine", "il", "mia"})
_KEEP = frozenset({"keeping", "keep"})
_OUTGOING = frozenset({"notice", "port", "porting", "port-out", "transfer"})  # "undo the port out request"
_RECONTRACT = frozenset({"move", "put", "switch", "upgrade", "change", "moving", "putting", "switching"})


def ported_in(r: Reading, i: int) -> bool:
    """Whether the port at `i` brings a number to the company: "port my number to you", "porting my number in
    from Sunrise", "port my wife's number from Lebara into my family plan"; not "port my number from you", "a
    port-out", nor "porting from X" alone (said to X, it is leaving)."""
    after = r.words[i + 1:i + 8]
    after = after[:next((k for k, x in enumerate(after) if x in CLAUSE_END), len(after))]
    if r.word(i + 1) == "out":
        return False  # "requesting a port-out"
    if "from" in after and r.word(i + 2 + after.index("from")) in ("you", "your", "u"):
        return False  # "port my number from you to Salt"
    k = after.index("in") + i + 1 if "in" in after[:4] else -1
    here = [x for h, x in enumerate(after, i + 1) if x != "us" or r.text.written(h) != "US"]
    return not {"you", "your", "us", "into"}.isdisjoint(here) or k > 0 and (  # "US Mobile" is no "us"
        r.word(k + 1) in ("", "from", "to") or r.word(k + 1) in CLAUSE_END)


_MOVES = ("switch", "mov", "port", "transfer", "chang", "bring", "brought", "leav", "terminat", "cancel", "quit", "buy",
          "pac")
_JOIN = frozenset({"join", "joining", "come", "coming"})
_OLD = frozenset({"another", "old", "previous", "other", "different", "former", "current"})
_OLD_ONE = frozenset({"provider", "network", "carrier", "bank", "company", "operator", "isp", "supplier", "telco",
                      "providers", "networks", "carriers", "companies", "operators", "suppliers"})


def comes_to_us(r: Reading, i: int) -> bool:
    """Whether the move found near `i` brings the customer to the company addressed: "planning to switch our
    whole office to your business plan", "I switched from another provider last year", "porting my number from
    the old network took 2 hours", "terminate my old contract with Sky and join you"; not "switching from you to
    Vodafone", "moving to another provider" nor "end my contract with you"."""
    words = r.words
    lo, hi = r.span(r.sentence_of(i))
    for j in r.around(i, 3, 4):
        if not words[j].startswith(_MOVES):
            continue
        after = words[j + 1:min(hi, j + 9)]
        after = after[:next((k for k, x in enumerate(after) if x in CLAUSE_END), len(after))]
        dest = r.word(j + 2 + after.index("to")) if "to" in after else "you"
        if dest not in ("you", "your", "u", "yours") and not dest.startswith(_MOVES + ("join", "get", "keep")):
            return False  # "switching from the old network to Vodafone"; not "...to bring my number over to you"
        for k, x in enumerate(after[:-1]):
            if x in _JOIN and (after[k + 1] in ("you", "u", "your") or after[k + 1] == "to" and k + 2 < len(after)
                               and after[k + 2] in ("you", "u")):
                return True  # "i'm leaving vodacom and joining you", "wants to leave Telkom and come to you"
            if x in ("to", "onto") and after[k + 1] in ("your", "you", "u", "yours"):
                return not any(y.startswith(("competit", "rival")) for y in after[k + 2:k + 4])  # "to your rival"
            if x == "from" and (after[k + 1] in _OLD or after[k + 1] in ("the", "my", "a") and k + 2 < len(after)
                                and after[k + 2] in _OLD) and any(y in _OLD_ONE for y in after[k + 1:k + 5]):
                return True
        return False
    return False


_OTHERS = frozenset({"friend", "friends", "mate", "mates", "colleague", "colleagues", "coworker", "coworkers", "boss",
                     "neighbour", "neighbor", "cousin", "brother", "sister", "friend's", "mate's", "colleague's",
                     "brother's", "sister's", "member", "staff"})


_WHOSE = frozenset({"my", "a", "his", "her", "our", "their", "the", "one", "another"})
_FIRST_PERSON = frozenset({"i", "we", "i'm", "we're", "me", "us", "i've", "mine", "i'd", "i'll"})


def someone_elses_leave(r: Reading, i: int) -> bool:
    """Whether the leave found near `i` is a friend's, a colleague's or a sibling's told as theirs: "my friend went
    to another provider and pays less", "a friend of mine had trouble leaving you", "my brother wants to leave";
    not "my brother and I are leaving", nor a wife's or a child's line the customer ends."""
    words = r.words
    lo, hi = r.span(r.sentence_of(i))
    for j in r.around(i, 3, 4):
        if words[j].startswith(_MOVES) or r.cls(j) & END or words[j] in ("went", "gone", "going"):
            start = max(lo, j - 6)
            k = next((h for h in range(start, j) if words[h] in _OTHERS and (words[h].endswith("'s") or r.word(
                h - 1) in _WHOSE)), -1)  # "my brother", "a staff member"; not "Brother please cancel my sim"
            return k >= 0 and _FIRST_PERSON.isdisjoint(x for h, x in enumerate(words[k:j], k) if not (
                x == "mine" and r.word(h - 1) == "of"))
    return False


def staying(r: Reading) -> bool:
    """Whether the customer says they stay, or keep the rest of what they hold: "I considered porting out but the
    new coverage map means I'm staying", "cancelling the bolt-on but keeping the rest"; a leave the detectors found
    elsewhere in such a text is a near thing, not a leave."""
    words = r.words
    for k, w in enumerate(words):
        if w in _STAY and r.word(k - 1) in ("i'm", "im", "we're", "i'll", "we'll", "am", "are") and \
                not r.negated(k, 3) and r.word(k + 1) not in _STAY_NOT:
            return True  # not "I'll stay only if you match it": a price asked, or the customer goes
        if w in _STAY and r.word(k - 1) in ("i", "we") and (r.word(k + 1) in ("", "with") or r.word(
                k + 1) in CLAUSE_END) and r.word(k - 2) not in ("if", "should", "why", "can", "could", "would"):
            return True  # "revoke my termination, I stay"
        if (w.startswith(_UNDO) or w == "take" and r.word(k + 1) == "back") and r.word(r.next_content(
                k + (w == "take"), _EMPTY | _THEIR_THE, 3)) in END_NOUNS | _OUTGOING or \
                w in ("bleibe", "bleiben") and r.word(k - 1) in ("ich", "wir") or w == "resto" and r.word(
                k + 1) == "con" or w == "reste" and r.word(k - 1) == "je":
            return True  # "please withdraw my cancellation", "kündigung zurückziehen, ich bleibe", "resto con voi"
        if w == "stays" and (r.cls(k - 1) & HELD or r.word(k - 1) == "one") or w == "onto" and any(
                x in ("your", "you") for x in words[k + 1:k + 9]):
            return True  # "close the old account, the current one stays", "end my plan and go onto one of yours"
        if w in _KEEP and (r.word(k + 1) == "everything" and r.word(k + 2) != "but" or r.word(k + 1) == "the" and
                           r.word(k + 2) in ("rest", "others", "other")):
            return True
        if w in _STAY and r.word(k - 1) == "rather" or w == "changed" and r.word(k + 1) in ("my", "our") and r.word(
                k + 2) == "mind" and r.word(k + 3) == "about" or w == "stayed" and any(r.cls(h) & END or words[
                    h].startswith("leav") for h in range(r.span(r.sentence_of(k))[0], k)):
            return True  # "I'd rather stay with you", "changed my mind about leaving", "called to leave and stayed"
        if w in _RECONTRACT and r.word(k + 1) in ("me", "us") and r.word(k + 2) in ("to", "on", "onto") and any(
                r.cls(h) & END for h in range(max(0, k - 12), k)) or w == "new" and r.word(k + 1) == "one" and \
                "with" in words[k + 2:k + 8] and not {"you", "u"}.isdisjoint(words[k + 2:k + 9]):
            return True  # "terminate the old tariff and move me to the unlimited plan", "end my contract and start a
            # new one with you"
        if w in _NEAR and _near_thing(r, k):
            return True  # "I almost quit your airline", "thought about leaving when my contract ended but..."
        if w == "still" and r.word(k + 1).startswith(("flying", "with", "banking", "using", "shopping", "here")) and \
                not {"you", "your", "u", "here"}.isdisjoint(words[k + 1:k + 4]) and "but" not in words[k + 1:k + 8]:
            return True  # "still flying with you", "still with you after 10 years"; not "still with you but not
            # for long"
        if w in _KEEP and (j := next((h for h in range(k + 1, min(r.n, k + 5)) if r.cls(h) & HELD), -1)) >= 0 and \
                words[j] not in ("number", "numbers", "phone", "app") and any(r.cls(h) & END for h in range(
                    max(0, k - 12), k)):
            return True  # "cancel the landline but keep internet and tv", "remove the second box, keep my tv abo"
    return False


def _near_thing(r: Reading, k: int) -> bool:
    """A leave nearly made, at `k` ("almost", "nearly", "thought", "considered"): "I almost quit your airline over
    the lost bag", "thought about leaving when my contract ended but the retention team found me a deal"."""
    nxt = r.word(k + 1)
    if nxt.startswith(_LEFT):
        return r.words[k] in ("almost", "nearly") or "but" in r.words[k:r.span(r.sentence_of(k))[1]]
    return r.words[k] in ("thought", "considered") and nxt in ("about", "of") and r.word(k + 2).startswith(
        _LEFT) and "but" in r.words[k:r.span(r.sentence_of(k))[1]]


_PATRONS = ("us", "fly", "flew", "flying", "shop", "buy", "order", "go", "stick", "bank", "book", "tak", "driv",
            "rid", "stream", "watch", "choos", "pick", "pay", "switch", "mov")


def patron(r: Reading, s: int) -> bool:
    """Whether sentence `s` says whose customer the writer is: a verb of using or buying ("use", "fly", "shop",
    "book"), a company named or addressed past its start, or a negation ("not with you")."""
    lo, hi = r.span(s)
    words = r.words
    return any(w.startswith(_PATRONS) or named(w) and j > lo or r.cls(j) & NEG for j, w in enumerate(words[lo:hi], lo))
