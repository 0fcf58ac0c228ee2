"""Leaving as customers type it into a provider's chat: short, with what ends left to a pronoun ("no need for
internet anymore, end it"), with no object at all ("plz terminate", "how much to pay to leave"), as notice given
("notice given, when do you pick up the box"), as the number taken along ("how do I take my number with me"), or
in the word of the customer's first language ("kündigen", "je veux résilier", "recesso anticipato"). Each is the
customer's own step, and none is a notice taken back or an option ended ("kündigung der zusatzoption")."""

from __future__ import annotations

import re

from ticket_enricher.agents.rules.language import CLAUSE_END, SENTENCE_END
from ticket_enricher.agents.rules.lexicons import BRANDS
from ticket_enricher.agents.rules.signals.goodbyes import _proper
from ticket_enricher.agents.rules.signals.leaving_steps import _ONE_OFF_TOO
from ticket_enricher.agents.rules.signals.reading import _EMPTY, END, HELD, MONEY, ONE_OFF_, TRIP, Reading

# the words of ending other languages lend a chat in English ("Kündigung", "résilier", "disdetta", "recesso")
_FOREIGN = ("kündig", "kundig", "sonderkündig", "sonderkundig", "résili", "resili", "disdett", "recesso", "recedere")
# what wakes the leaving detector in a text with none of its own words (`signals.detect`): these forms' words
# that are not verbs of ending, in the phrases they need, so that common words ("going", "number") cost nothing
_WAKE = re.compile(r"k[üu]ndig|r[ée]sili|disdett|reces|withdraw|portab|portier|rufnummernmitnahm|migra|\brio\b|"
                   r"\bbye\b|renouvel|verl[äa]nger|rinnov|(?:i'?m|we'?re|am|are|be|towards?) (?:leaving|going|moving|"
                   r"walking|gone|off)\b|(?:i|we) go (?:to|with)\b|(?:should|shall|shouldn'?t) (?:i|we)\b|(?:i|we) "
                   r"(?:should|shall|shouldn'?t) (?:just )?(?:go|leave|walk)\b|\b(?:joined|signed|ordered)\b|"
                   r"numbers? to |(?:mov|bring|brought|shift|tak|took|get|port|transfer)\w* (?:my|our|the) "
                   r"(?:\d+ |mobile |phone |landline |cell )?numbers?\b|\betf\b|walk away|\boff (?:you|ur)\b|"
                   r"out of|if (?:i|we) left\b|release (?:my|our|the) (?:numbers?|line)|(?:i'?ll|we'?ll|to|wanna) go\b|"
                   r"(?:for|after|handles|with) (?:ending|leaving|terminating|exiting)\b|buy out|"
                   r"not staying\b|release (?:it|them)\b")
# the words the forms start from (besides verbs of ending and the prefixes below): most words cost one lookup
_STARTS = frozenset({"bye", "withdraw", "withdrawal", "rio", "notice", "take", "taking", "bring", "leaving", "leave",
                     "end", "exit", "finish", "terminate", "going", "moving", "walking", "gone", "off", "go", "walk",
                     "jump", "etf", "out", "left", "joined", "signed", "ordered", "number", "numbers", "termination",
                     "cancellation", "cancelation", "stop", "quit", "release", "ending", "terminating", "exiting",
                     "buy", "staying"})
# taking the notice back, or ending an option only: no leaving
_TAKEN_BACK = ("zurück", "widerruf", "annul", "revoc", "revok", "retract", "undo", "option", "opzion", "zusatz")
_RENEW = ("renouvel", "verlänger", "verlanger", "rinnov")  # not renewing, after a negation: "will nicht verlängern"
_PREFIXES = _FOREIGN + _RENEW + ("portab", "portier", "rufnummernmitnahm", "migra")
_CHEAPER = frozenset({"cheaper", "better", "less", "faster", "half", "cheap"})
_NOT_MINE = frozenset({"you", "they", "he", "she", "it", "u", "who", "which", "that", "keeps", "kept"})
_ASKS = frozenset({"i", "we", "i'd", "i'll", "we'd", "we'll", "i'm", "we're", "want", "wanna", "need", "please", "pls",
                   "plz", "kindly", "can", "could", "just", "how", "to", "and", "so", "then", "now"})
_AFTER_IT = frozenset({"", "please", "pls", "plz", "now", "too", "today", "asap", "all", "immediately", "then",
                       "off", "down", "from", "at", "by", "for", "as", "completely", "also"})
# what a pronoun may stand for and not be held: an add-on, a card or a one-off ("my card was stolen, stop it")
_NOT_HELD = frozenset({"card", "cards", "option", "options", "add-on", "addon", "bolt-on", "extra", "data", "trial",
                       "roaming", "channel", "pack", "boost", "insurance", "sports", "alarm", "all", "everything"})
_LOST = frozenset({"lost", "stolen", "stole", "theft", "thief", "robbed", "missing"})
# a verb of ending with no object, asked about: "how to leave before the 24 months", "if I end today what do I owe"
_BARE = frozenset({"leave", "end", "exit", "finish", "terminate", "go"})
_BARE_ASK = frozenset({"how", "can", "if", "when", "to", "want", "wanna", "need", "please", "pls", "plz", "kindly",
                       "i", "we", "and"})
_BARE_NEXT = frozenset({"", "before", "early", "earlier", "without", "today", "now", "asap", "please", "pls", "plz",
                        "what", "how", "at", "on", "by", "immediately", "after", "and", "whenever", "straight",
                        "once", "mid", "right", "lol", "full", "period", "penalty", "free", "for"})
_BY_ME = frozenset({"i", "we", "to", "please", "pls", "plz", "kindly", "and", "then", "just", "i'll", "we'll",
                    "wanna", "can"})
_ONCE_MEANT = frozenset({"was", "were", "would", "almost", "nearly", "thought"})
_COSTS = frozenset({"pay", "paying", "owe", "cost", "costs", "fee", "fees", "penalty", "charge", "charged", "months",
                    "contract", "router", "box", "modem", "balance", "handset", "free", "penalties", "term"})
_NOT_NOTICE = frozenset({"landlord", "flat", "apartment", "lease", "tenancy", "job", "employer", "boss", "work"})
_GIVE = frozenset({"give", "giving", "gave", "given", "hand", "handing", "handed", "submit", "submitting", "sent"})


def says_chat_leaving(lower: str) -> bool:
    """Whether a text (lower case) with no verb of ending may hold one of these forms: one pattern."""
    return bool(_WAKE.search(lower))


def chat_leaving(r: Reading) -> int:
    """Where the customer leaves in one of the chat's forms (see the module), or -1."""
    words = r.words
    for i, w in enumerate(words):
        if w not in _STARTS and not r.cls(i) & END and not w.startswith(_PREFIXES):
            continue
        nxt = r.word(i + 1)
        if w.startswith(_FOREIGN) and r.word(i - 1) not in _NO and not any(t in x for x in words for t in _TAKEN_BACK) \
                or w.startswith(_RENEW) and r.word(i - 1) in _NO:
            return i  # "kündigen", "Sonderkündigung because you raised the price", "non renouvellement du contrat"
        if w == "bye" and (nxt == "" or nxt in SENTENCE_END) and any(x in BRANDS and x not in _HOME for x in words) \
                and not _CHEAPER.isdisjoint(words):
            return i  # "sosh is cheaper, bye"
        if w in ("withdraw", "withdrawal") and (nxt == "from" and r.word(r.next_content(i + 1, _THE, 3)) in _PACTS or
                                               w == "withdrawal" and r.word(i - 2) == "right"
                                               or w == "withdrawal" and nxt in ("period", "right", "rights")):
            return i  # "withdraw from the contract", "my right of withdrawal"; not "withdraw from my savings"
        if w.startswith(("portab", "portier", "rufnummernmitnahm")) and _HERE.isdisjoint(words) or w == "rio" and (
                r.word(i - 1) == "code" or nxt == "code") or w.startswith("migra") and "cod" in (
                r.word(i - 1)[:3], nxt[:3], r.word(i + 2)[:3], r.word(i - 2)[:3]):
            return i  # "the unlock code for portability", "code RIO", "il codice di migrazione"
        if w == "notice" and _NOT_NOTICE.isdisjoint(words) and (nxt == "given" or any(
                x in _GIVE for x in words[max(0, i - 5):i]) and (nxt in SENTENCE_END or nxt in (
                    "", "today", "now", "hereby", "as", "from", "effective", "starting"))):
            return i  # "notice given.", "I give notice today"; not "gave notice to my landlord"
        if w in ("take", "taking", "bring") and nxt in ("my", "our") and r.word(i + 2 + (r.word(i + 2) in (
                "landline", "mobile", "phone", "old"))) in ("number", "numbers") and \
                "with" in words[i + 3:i + 6] and not {"me", "us"}.isdisjoint(words[i + 3:i + 7]):
            return i  # "how do I take my number with me"
        if r.cls(i) & END and nxt in ("it", "them", "mine", "ours", "both") and (k := _ended_it(r, i)) >= 0:
            return k
        if w in _BARE and (k := _bare_leave(r, i)) >= 0 or (k := _going(r, i)) >= 0 or (k := _costs(r, i)) >= 0:
            return k
        if w in _JOINED and (k := _joined(r, i)) >= 0 or w in ("number", "numbers") and (k := _number_taken(r, i)) >= 0:
            return k
        if w in _GERUNDS and r.word(i - 1) in ("for", "after") and not _COSTS.isdisjoint(words[slice(*r.span(
                r.sentence_of(i)))]) and not r.mask & TRIP and not r.negated(i, 3):
            return i  # "is there a penalty for ending 3 months early", "do I pay for the router if I don't return it
            # after leaving"
        if w == "buy" and nxt == "out" and not _PACTS.isdisjoint(words[i + 2:i + 8]) or w == "staying" and r.word(
                i - 1) == "not" and r.word(i - 2) in _ME_NOW and (nxt in _AFTER_STAY or nxt in CLAUSE_END):
            return i  # "how much to buy out the rest of my contract", "I'm not staying after this year"
        if w == "bye" and (nxt == "forever" or nxt == "for" and r.word(i + 2) in ("good", "ever")):
            return i  # "bye forever", "bye for good"
        if w in _GERUNDS and r.word(i - 1) in ("handles", "handling", "with", "for") and not _DESK.isdisjoint(words) \
                and not r.mask & TRIP and not r.negated(i, 3):
            return i  # "put me through to whoever handles leaving", "which department deals with ending contracts"
        if w == "release" and nxt in ("it", "them") and (_names_rival(r) or any(
                x in ("another", "other", "new") and r.word(k + 1) in _ELSEWHERE for k, x in enumerate(words))):
            return i  # "moving my line to an account at another company, what do you need to release it?"
        if w in ("stop", "quit") and nxt == "being" and r.word(i + 2) in ("your", "a", "an") and r.word(i + 3) in (
                "customer", "client", "member", "subscriber") and not r.negated(i, 3):
            return i  # "how do I stop being your customer"
        if w == "release" and nxt in ("my", "our", "the") and r.word(i + 2) in ("number", "numbers", "line") and \
                not r.negated(i, 3):
            return i  # "release my number": to take it to another company
        if w in ("termination", "cancellation", "cancelation") and r.word(i - 1) == "the" and r.word(i - 2) in (
                "with", "confirm", "process", "start", "begin") and (r.word(i - 2) != "with" or r.word(i - 3) in (
                "proceed", "ahead", "on")) and not any(x.startswith(("undo", "withdraw", "revok")) for x in words[:i]):
            return i  # "no thanks, proceed with the termination", "go ahead with the cancellation"
        if w in ("termination", "cancellation", "cancelation") and nxt in ("please", "pls", "plz") and (
                i == 0 or r.word(i - 1) in CLAUSE_END):
            return i  # "termination pls, I move to Germany"
    return -1


_THE = frozenset({"the", "my", "our", "this", "that", "your"})
_NO = frozenset({"nicht", "pas", "non", "not", "no", "nie"})
_HOME = frozenset({"target", "walmart", "amazon", "apple", "google", "delta", "united", "three", "metro"})
_GOING_AT = frozenset({"at", "end", "by", "next", "this", "on", "after", "when"})
_ENDS_AT = frozenset({"contract", "router", "box", "modem", "notice", "subscription", "abo", "abonnement", "term",
                      "bundle", "deal"})
_PACTS = frozenset({"contract", "contracts", "agreement", "subscription", "abo", "abonnement", "plan"})
_HERE = frozenset({"you", "your", "u", "us", "from", "came", "coming", "into", "in"})


def _ended_it(r: Reading, i: int) -> int:
    """ "end it", "close it too", "cancel it please": a verb of ending, the customer's own ask, and "it" for what
    the customer holds, named in the words before ("no need for internet anymore, end it"); not for a card, an
    option or a one-off ("the order is late, cancel it"), nor a lost or stolen phone's."""
    words = r.words
    w = words[i]
    if w.endswith(("ed", "ion", "s")) or r.negated(i, 3) or r.word(i + 2) not in _AFTER_IT and r.word(
            i + 2) not in CLAUSE_END or not _LOST.isdisjoint(words):
        return -1
    before = r.word(i - 1)
    if before in _NOT_MINE and not (before in ("you", "u") and r.word(i - 2) in ("can", "could", "please", "pls")):
        return -1
    if not (i == 0 or before in CLAUSE_END or before.startswith("@") or _ASKS & set(words[max(0, i - 4):i])):
        return -1
    if any(x in _NOT_HELD or x in _ONE_OFF_TOO or r.cls(k) & ONE_OFF_ for k, x in enumerate(words[:i])):
        return -1
    for k in range(i - 1, max(-1, i - 26), -1):
        x = words[k]
        if r.cls(k) & HELD and r.word(k + 1) not in ("number", "numbers"):  # no word before `i` is in _NOT_HELD
            return i if x not in ("number", "numbers") or w.startswith((
                "port", "cancel", "terminat", "disconnect", "deactivat")) else -1
    return -1


def _bare_leave(r: Reading, i: int) -> int:
    """ "how to leave before the 24 months", "when can I leave without paying anything", "if I end today, what do
    I owe", "termination pls"; with what leaving costs or a contract in the text, and no trip ("when can we leave
    the plane?")."""
    words = r.words
    nxt = r.word(i + 1)
    if r.mask & TRIP or any(r.cls(k) & ONE_OFF_ for k in range(r.n)) or r.negated(i, 3) or r.word(
            i - 1) not in _BY_ME:
        return -1  # also not "when does my contract end?": the contract's end, not the customer's act
    if not (nxt in CLAUSE_END or nxt in _BARE_NEXT) or _BARE_ASK.isdisjoint(words[max(0, i - 4):i]) or not \
            _ONCE_MEANT.isdisjoint(words[max(0, i - 4):i]):  # not "I was going to leave but the price works"
        return -1
    if nxt == "for" and r.word(i + 2) != "free":
        return -1  # "can i leave for free"; not "leave for Spain"
    if words[i] == "go" and (r.word(i - 1) == "to" and r.word(i - 2) not in ("want", "wanna", "need", *_COSTS) or
                             nxt not in CLAUSE_END and nxt not in _GO_NEXT):
        return -1  # "go" only as a goodbye: "just tell me what i owe and i'll go", "i want to go, full stop"
    return i if r.mask & (HELD | MONEY) or not _COSTS.isdisjoint(words) or r.n <= 10 and not {
        "want", "wanna", "need"}.isdisjoint(words[max(0, i - 3):i]) or "full" in words[i + 1:i + 3] else -1


# a price or a rival in the text: what makes "I'm going." a goodbye and not a trip
_PRICED = frozenset({"cheaper", "cheap", "better", "deal", "offer", "offered", "offering", "price", "prices", "match",
                     "beat", "$", "£", "€", "half", "free", "unlimited", "bill", "expensive", "dearer"})
_GOING = frozenset({"leaving", "going", "moving", "walking", "gone", "off"})
_ME_NOW = frozenset({"i'm", "im", "we're", "am", "are"})


def _rival(r: Reading, k: int) -> bool:
    """The word at `k` names a company other than the one addressed: a brand or a name written as one."""
    x = r.word(k)
    return (x in BRANDS and x not in _HOME or _proper(r, k)) and "@" + x not in r.words


def _names_rival(r: Reading) -> bool:
    """Whether any word of the text names a rival (`_rival`)."""
    return any(_rival(r, k) for k in range(r.n))


def _going(r: Reading, i: int) -> int:
    """An ultimatum or a plain goodbye: "I'm leaving unless my bill drops", "price match or I'm moving", "Orcon is
    cheaper. I'm going.", "can you match it or should I just go?"; not "I'm going to bed", "I'm moving house"."""
    words, w, nxt = r.words, r.words[i], r.word(i + 1)
    if w in _GOING and r.word(i - 1) in _ME_NOW and (w not in ("off", "gone") or r.word(i - 1) in ("i'm", "im")) \
            and r.word(i - 2) not in ("when", "where", "how", "if") and (
            nxt == "unless" or (nxt == "" or nxt in SENTENCE_END) and (
            r.word(i - 2) == "or" or w != "moving" and (not _PRICED.isdisjoint(words) or _names_rival(r)))) and \
            not r.mask & TRIP and not r.negated(i, 3):
        return i
    h = i - 3 if w == "jump" and r.word(i - 1) == "the" and r.word(i - 2).startswith("mak") else i - 1 - (
        r.word(i - 1) == "just") if w in ("go", "leave", "walk") else -9
    if {r.word(h), r.word(h - 1)} & _I and {r.word(h), r.word(h - 1)} & _SHOULD and (
            nxt == "" or nxt in CLAUSE_END) and not r.mask & TRIP:
        return i  # "can you match it or should I just go?", "tell me why I shouldn't just leave", "should I make the
        # jump?"
    if w in ("go", "going") and r.word(i - 1) in ("i", "we", "we're", "i'm") and nxt in ("to", "with") and _rival(
            r, i + 2) and (r.mask & HELD or not _PRICED.isdisjoint(words) or "instead" in words):
        return i  # "I want to cancel, I go to NOS", "we're going with Kayo instead"; not "going with Sarah"
    if w == "leaving" and r.word(i - 1) in _ME_NOW and (nxt in _FOR_SURE or nxt == "for" and (r.word(
            i + 2) in ("good", "real", "sure") or r.word(i + 2) in BRANDS and r.word(i + 2) not in _HOME)) and \
            not r.mask & TRIP and not r.negated(i, 3):
        return i  # "your service is rubbish and im leaving end of story", "I'm leaving for MTN"; not "I'm leaving
        # for Portugal on Friday" (a brand, not any name: places are written as names too)
    if (w == "leaving" and r.word(i - 1) in _ME_NOW or w in ("leaving", "leave") and r.word(i - 1) in (
            "be", "towards", "toward")) and nxt in _GOING_AT and not _ENDS_AT.isdisjoint(words) and not r.mask & TRIP:
        return i  # "where do I send the router back? I'm leaving at end of month", "I'll be leaving when my term's up"
    return -1


_I = frozenset({"i", "we"})
_DESK = frozenset({"department", "team", "whoever", "someone", "person", "who", "dept"})
_ELSEWHERE = frozenset({"company", "provider", "network", "carrier", "operator", "supplier", "mvno"})
_GERUNDS = frozenset({"ending", "leaving", "terminating", "exiting"})
_GO_NEXT = frozenset({"", "full", "period", "lol", "now", "today", "asap"})
_AFTER_STAY = frozenset({"", "after", "past", "beyond", "with", "when", "once", "longer", "any", "another", "on"})
_FOR_SURE = frozenset({"end", "period", "full", "forever", "lol", "tbh", "honestly", "seriously", "then"})
_SHOULD = frozenset({"should", "shall", "shouldn't"})


_JOINED = frozenset({"joined", "signed", "ordered"})


def _joined(r: Reading, i: int) -> int:
    """The customer already joined a rival: "Just joined Virgin Plus, what do I send back?", "Signed with Telus
    yesterday", "I've signed up with Aussie Broadband already"; not "signed up with you"."""
    k = r.next_content(i, _EMPTY | {"up", "with", "to", "a", "an"}, 4)  # not "signed up for Sapphire" (a product)
    if k < 0 or r.negated(i, 3) or r.word(i - 1) in ("you", "they", "he", "she", "who") or not _rival(r, k):
        return -1
    return i if r.words[i] != "ordered" or "already" in r.words[max(0, i - 3):i] else -1


_TAKE = ("mov", "bring", "brought", "shift", "tak", "took", "get", "port", "transfer")


def _number_taken(r: Reading, i: int) -> int:
    """The number taken to a rival: "I'm taking my number to MTN", "Public Mobile needs my account number to bring
    my number over", "Jio is faster here, I'm shifting my number"; not to a new phone or SIM of the customer's."""
    words = r.words
    if r.word(i + 1) == "to" and r.word(i + 2).startswith(("mov", "port", "transfer")) and _names_rival(r):
        return i  # "we're going to Spark, 4 numbers to move"
    h = i - 1 - (r.word(i - 1).isdigit() or r.word(i - 1) in ("mobile", "phone", "landline", "cell"))
    if r.word(h) not in ("my", "our", "the") or not r.word(h - 1).startswith(_TAKE) or r.negated(i, 4) or \
            not _HERE.isdisjoint(words[i + 1:i + 4]) or r.word(i + 1) == "to" and r.word(i + 2) in ("my", "a", "new"):
        return -1
    elsewhere = r.word(i + 1) == "to" and (r.word(i + 3) in _ELSEWHERE and r.word(i + 2) in ("an", "a", "another")
                                            or r.word(i + 2) == "another" and r.word(i + 3) in _ELSEWHERE)
    return i if (_names_rival(r) or elsewhere) and "new" not in words[i + 1:i + 4] else -1


def _costs(r: Reading, i: int) -> int:
    """Asking what leaving costs or whether it may: "What's the ETF on my account?", "can I walk away penalty
    free?", "how do I move off you", "let me out of this contract", "what would leaving you cost?", "what would I
    owe if I left this week?"."""
    words, w, nxt = r.words, r.words[i], r.word(i + 1)
    if w == "etf" and _FUNDS.isdisjoint(words) and not r.negated(i, 3):
        return i  # an early termination fee; not an exchange-traded fund
    if w == "walk" and nxt == "away" and r.word(i - 1) in ("i", "we", "to", "can") and not r.negated(i, 3):
        return i
    if w == "off" and nxt in ("you", "ur", "your") and r.word(i - 1).startswith(("mov", "get")) or w == "exit" and \
            r.word(i - 1) in _BY_ME | {"i", "can", "how"} and r.cls(r.next_content(i, _THE, 3)) & HELD:
        return i  # "how do I move off you", "how do I exit my contract with you"
    if w == "out" and nxt == "of" and r.word(i - 1) in ("me", "us") and r.word(i - 2) in ("let", "get") and r.cls(
            r.next_content(i + 1, _THE, 3)) & HELD:
        return i
    if (w == "leaving" and nxt in ("you", "u") or w == "left" and r.word(i - 2) == "if" and r.word(i - 1) in (
            "i", "we")) and not _OWE.isdisjoint(words) and not r.mask & TRIP:
        return i
    return -1


_FUNDS = frozenset({"fund", "funds", "invest", "investing", "investment", "shares", "stock", "stocks", "index",
                    "savings", "isa", "pension", "portfolio"})
_OWE = frozenset({"cost", "costs", "owe", "fee", "fees", "charge", "pay", "penalty"})
