"""Leaving in everyday words: ending what the customer holds, never again; always the customer's own act
(switching to someone else: `switching`; a legal threat: `legal`)."""

from __future__ import annotations

from ticket_enricher.agents.rules import lexicons as L
from ticket_enricher.agents.rules.language import CLAUSE_END, SENTENCE_END
from ticket_enricher.agents.rules.signals.goodbyes import goodbye
from ticket_enricher.agents.rules.signals.leaving_chat import chat_leaving
from ticket_enricher.agents.rules.signals.leaving_steps import (
    leaving_phrase,
    leaving_step,
    patron,
    ported_in,
    staying,
)
from ticket_enricher.agents.rules.signals.never_again import _SOMEONE, never_again
from ticket_enricher.agents.rules.signals.reading import (
    _CLASS_GET,
    _EMPTY,
    _ME,
    END,
    HELD,
    NEVER_AGAIN,
    NUMBER,
    ONE_OFF_,
    PROVIDER,
    T_CANCEL,
    THANKS,
    TRIP,
    Reading,
    named,
)

_NOT_THE_CUSTOMER = frozenset({"you", "they", "you've", "they've", "you'd", "was", "were", "been", "got", "he",
                               "she", "it", "it's", "driver", "not", "didn't", "u", "ya", "y'all", "is", "being",
                               "keeps", "kept"})
# what a verb of ending ends when the customer leaves, per verb ("port my number", "delete the app")
_ENDS_WITH = {"number": ("port", "deactivat", "cancel", "terminat", "disconnect"),
              "app": ("delet", "uninstall", "remov"), "phone": ("cancel",),
              "everything": ("cancel", "clos", "terminat", "shut", "end", "stop", "finish"),
              "all": ("cancel", "clos", "terminat", "shut", "stop", "finish")}
_FIRST_FUTURE = frozenset({"i'm", "im", "we're", "am", "are", "will", "i'll", "we'll", "gonna", "shall"})
_UNTIL = frozenset({"", "now", "today", "tomorrow", "asap", "soon", "at", "by", "on", "in", "next", "this",
                    "effective", "from", "when", "if", "unless", "once", "after", "first", "immediately"})


_INTENT = frozenset({"want", "wanted", "wanna", "need", "needed", "trying", "tried", "try", "going", "gonna", "have",
                     "had", "time", "ready", "about", "will", "like", "wish", "plan", "planning", "decided", "please",
                     "kindly", "how", "can", "could", "would", "should", "must", "asked", "asking", "request",
                     "requested", "able", "thinking", "considering", "just", "process", "procedure", "steps", "way",
                     "help", "possible", "option", "options", "allowed", "pls", "plz", "looking", "fee", "fees",
                     "cost", "penalty"}) | _ME
# a request that the company end it for the customer: "can you delete my account", "I need you to close it"
_ASK = frozenset({"can", "could", "would", "will", "please", "pls", "need", "want", "like", "i'd", "must", "should"})
_BASE_END = frozenset({"cancel", "close", "terminate", "end", "delete", "deactivate", "stop", "unsubscribe",
                       "uninstall", "discontinue", "drop", "port", "quit", "remove", "shut", "disable", "erase",
                       "resign", "disconnect", "kill", "finish", "annul", "rescind", "denounce"})


_NOT_AGAIN = frozenset({"renew", "renewing", "recommend", "recommending", "extend", "extending", "prolong"})
_MAILINGS = frozenset({"email", "emails", "e-mails", "newsletter", "newsletters", "texts", "messages", "marketing",
                       "mailing", "notifications", "list", "promotions", "promos", "sms"})
_USING = frozenset({"using", "buying", "ordering", "shopping", "flying", "banking", "booking"})  # not "paying"


# leaving a place, not a company: "about to leave @LAX", "had to leave @costco"
_NOT_LEAVING = frozenset({"about", "just", "had", "didn't", "never"})
_PLACE_TOO = frozenset({"target", "walmart", "metro", "delta", "united", "three", "apple", "amazon", "google"})
_AFTER_LEAVE = frozenset({"", "for", "now", "soon", "forever", "today", "after", "because", "if", "unless", "and",
                          "asap", "over", "when", "once", "too", "already", "completely", "entirely"})


_HYPOTHETICAL = frozenset({"thought", "would", "would've", "almost", "nearly", "i'd", "if", "was", "were"})
# someone the customer could leave: the company addressed or named, what it sells ("never again" alone about life
# is no leaving: "never again will I judge my sister", "I'm never going in the ocean again")


_INVERTED = frozenset({"will", "am", "do", "shall", "would", "can", "could", "did", "should", "must"})


def _to_someone(r: Reading) -> bool:
    """Whether the text names or addresses whom the customer could leave ("business class" is no business)."""
    return any(w.startswith("@") or w in _SOMEONE or w in L.BRANDS or r.cls(k) & (PROVIDER | HELD) and not (
        w == "business" and r.word(k + 1) == "class") for k, w in enumerate(r.words))


# a part of what the customer holds, whose end is no leaving: "the Netflix add-on", "Sky Sports"
_THEIRS = frozenset({"his", "her", "their", "own"})
# but the customer may end a line the kin uses: "we want to stop her landline", "please close his line"
_SPANS = frozenset({"12", "18", "24", "36", "month", "months", "year", "years", "-", "2", "two", "1", "one"})
_I_AM = frozenset({"i'm", "im", "we're", "i'll", "we'll", "am"})  # "I'm disconnecting"; not "it will terminate"
_KIN_WILL = frozenset({"he'll", "she'll", "they'll", "he", "she"})
_LOST = frozenset({"lost", "stolen", "stole", "theft", "thief", "robbed"})
_CAME = frozenset({"came", "coming"})
_DEVICE = frozenset({"sim", "phone", "card", "device", "mobile", "handset", "iphone"})
_ASKED_BY_ME = frozenset({"i", "we", "i'd", "we'd", "please", "pls", "plz", "kindly"})
_ADD_ONS = frozenset({"add-on", "addon", "add", "bolt-on", "bolt", "extra", "extras", "sports", "cinema", "channel",
                      "channels", "pack", "boost", "feature", "insurance", "roaming", "premium", "sms", "data",
                      "international", "travel", "movies", "kids", "music", "option", "options", "opzione"})
_JOINS = frozenset({"and", "or", "to", "for", "from", "with", "because", "but", "if", "so", "as", "at", "on", "in",
                    "you", "u", "me", "us", "it", "them", "him", "her", "a", "an", "the", "this", "that"})


def _object(r: Reading, j: int) -> int:
    """What a verb of ending ends, from its first word `j`: through a handle or a brand and a compound of up to
    three words ("my @paypal account", "my Entertainment membership", "my savings account"); -1 for an add-on."""
    words, k = r.words, j
    if k + 1 < r.n and (words[k].startswith("@") or words[k] in L.BRANDS and not r.cls(k + 1) & ONE_OFF_):
        k += 1
    for h in range(k, min(r.n, k + 3)):
        w = words[h]
        if w in _ADD_ONS or r.cls(h) & HELD and r.word(h + 1) in _ADD_ONS:
            return -1
        if w in CLAUSE_END or w in _JOINS:
            break
        if r.cls(h) & (HELD | ONE_OFF_):
            return h + 1 if r.cls(h + 1) & ONE_OFF_ else h  # "my new line order" is an order
    return j


def _left_named(r: Reading, i: int, j: int, prev: set[str]) -> bool:
    """ "I want to leave @x", "time to ditch Swisscom", "I'm leaving @x for Tesco Mobile"; not "about to leave
    @LAX", "had to leave @costco empty handed", "leave united out of this", "if I ever quit Netflix"."""
    words, w, x = r.words, r.words[i], r.words[j]
    if not named(x) or j != i + 1:
        return False
    if w not in ("leave", "ditch", "dump", "quit") and not (
            w in ("leaving", "ditching", "dumping", "quitting") and prev & _FIRST_FUTURE and (
                x in L.BRANDS and x not in _PLACE_TOO or r.word(j + 1) == "for")):
        return False
    return _HYPOTHETICAL.isdisjoint(words[max(0, i - 4):i]) and _NOT_LEAVING.isdisjoint(words[max(0, i - 3):i]) and (
        r.word(j + 1) in _AFTER_LEAVE or r.word(j + 1) in CLAUSE_END or r.word(j + 1).startswith("@"))


def _own_act(r: Reading, i: int) -> bool:
    """Whether the verb of ending at `i` is the customer's own act: a first person or a word of intent within
    four words before ("I want to cancel", "how do I close", "please cancel"), or an imperative opening a
    sentence ("Cancel my account.")."""
    words = r.words
    for j in range(i - 1, max(-1, i - 5), -1):
        w = words[j]
        if w in SENTENCE_END:
            break
        if w in _INTENT:
            return True
    opens = i == 0 or words[i - 1] in SENTENCE_END or words[i - 1].startswith("@") or words[i - 1] in (
        "and", "so") and words[i] in _BASE_END  # "refund it and close my account", "so cancel my wifi please"
    if (words[i] in _BASE_END or words[i].endswith("ing")) and r.word(i - 1) in CLAUSE_END:
        return True  # "This company is bad, delete my account now", "goodbye, closing everything"
    return opens and (words[i] in _BASE_END or words[i].endswith("ing"))  # "Cancel my account", "Deleting the app"


def _asked(r: Reading, i: int) -> bool:
    """ "you" before the verb at `i` is asked to act for the customer: "can you close my account", "I need you to
    delete it", "please could you cancel"."""
    k = i - 1 if r.word(i - 1) in ("you", "u") else i - 2 if r.word(i - 2) in ("you", "u") and r.word(i - 1) in (
        "to", "please", "pls", "just", "kindly") else -1
    return k > 0 and r.word(k - 1) in _ASK


def escalation_cancel(r: Reading) -> int:
    """Leaving in everyday words: "cancel my account", "close our contract", "I'm cancelling", "never ordering
    again", "won't renew", "lost me as a customer", "done with you", "taking my business elsewhere", "from now
    on", "goodbye @x", "delete the app", "not worth the money", "don't recommend"; the customer's own act, not
    the company's ("you closed my account"), nor a one-off ("cancel my order"), nor a customer who says they stay
    ("I considered porting out but I'm staying", "cancelling the bolt-on but keeping the rest")."""
    i = _cancel(r)
    return -1 if i >= 0 and staying(r) else i


def _cancel(r: Reading) -> int:
    if (k := leaving_phrase(r)) >= 0 or (k := goodbye(r)) >= 0 or (k := chat_leaving(r)) >= 0:
        return k
    words = r.words
    n = r.n
    for i in r.hashtags:
        if words[i].startswith("#boycott"):
            return i
    if not r.mask & T_CANCEL:
        return -1
    for i, m, s in r.hits:
        if not m & T_CANCEL:
            continue
        w = words[i]
        nxt = r.word(i + 1)
        if (w == "longer" and r.word(i - 1) == "no" or w in ("not", "don't", "dont") and r.word(i + 1) in (
                "want", "need")) and (k := _unwanted(r, i)) >= 0:
            return k  # "I no longer want this account", "I don't want my account anymore"
        if m & END:
            prev = {words[j] for j in range(max(0, i - 2), i) if not any(x in CLAUSE_END or x in ("and", "so")
                                                                         for x in words[j:i])}
            if prev & _NOT_THE_CUSTOMER and not _asked(r, i) or r.negated(i, 4):
                continue
            if w.startswith("unsubscrib") and not any(words[j] in _MAILINGS or words[j] in _ADD_ONS
                                                      for j in range(i + 1, min(r.n, i + 6))):
                return i  # "unsubscribing right now"; not "unsubscribe me from your emails"
            if w in ("stop", "stopped", "stopping", "quit", "quitting") and nxt in _USING:
                return i  # "I quit using your service", "stopped ordering from them"
            if not _own_act(r, i) or w.startswith("port") and ported_in(r, i):
                continue  # also "I want to port my number to you", "porting my number in from Sunrise": joining
            if nxt in ("all", "everything") and w.startswith(_ENDS_WITH["all"]):
                k = r.next_content(i + 1, _EMPTY | {"of"}, 3)
                if k < 0 or not r.cls(k) & ONE_OFF_ and words[k] not in _MAILINGS and (
                        not w.startswith(("stop", "finish")) or r.cls(k) & HELD or words[k] in CLAUSE_END):
                    return i  # "I'll have to cancel all of it", not "cancel all my orders"
            j = r.next_content(i, _EMPTY | {"out", "down", "off", "up", "with", "from", "of"}, 4)
            if j >= 0:
                j = _object(r, j)
                if j < 0:
                    continue  # a part of what the customer holds: "remove the Netflix add-on", "cancel Sky Sports"
                c, x = r.cls(j), words[j]
                if c & ONE_OFF_:
                    continue
                if c & HELD and not _LOST.isdisjoint(words[max(0, i - 6):j + 6]) and not _DEVICE.isdisjoint(words):
                    continue  # "stop the sim card I lost", "terminate the stolen phone's sim": a block, no leaving
                if c & HELD and (_THEIRS.isdisjoint(words[i + 1:j]) or _ASKED_BY_ME & set(words[max(0, i - 4):i])) \
                        and not {"if", "ever"} <= set(
                        words[max(0, i - 4):i]):
                    if x not in _ENDS_WITH or w.startswith(_ENDS_WITH[x]):
                        return i  # not "my daughter cancelled her own plan", "if I ever quit Netflix"
                    continue
                if c & PROVIDER and w.startswith(("leav", "ditch", "dump", "quit")) and x not in (
                        "store", "stores", "shop", "retailer", "platform"):
                    return i
                if _left_named(r, i, j, prev):
                    return i  # "I want to leave @x", "time to ditch Swisscom"; not "about to leave @LAX", "had
                    # to leave @costco empty handed", "leave united out of this"
                if w.startswith(("drop", "ditch", "dump")) and (x in ("you", "u", "y'all") or x.startswith("@")) and (
                        r.word(j + 1) in ("", "for", "now", "today", "soon", "forever") or r.word(j + 1) in CLAUSE_END):
                    return i  # "seriously considering dropping you", not "dropping you a line"
            if not _HYPOTHETICAL.isdisjoint(words[max(0, i - 3):i]) and not (
                    "i'd" in words[max(0, i - 3):i] and not {"like", "love", "prefer"}.isdisjoint(words[i - 2:i])):
                continue  # "I thought I'd quit after six months", "I almost left"; not "I'd like to leave"
            if w.startswith(("leav", "quit")) and not w.endswith("ed") and (
                    nxt in CLAUSE_END or nxt in ("", "you", "u", "y'all") or w.startswith("quit") and nxt in _UNTIL) \
                    and not (w.startswith("leav") and r.mask & TRIP and nxt not in ("you", "u", "y'all")):
                return i  # "I want to leave", "I'm leaving you", "I want to quit now"; not "when can we leave?" on
                # a plane
            # "I'm cancelling", "we will be leaving at the end of the month"
            if (nxt in CLAUSE_END or nxt in _UNTIL) and (prev & _FIRST_FUTURE or r.word(i - 1) in CLAUSE_END) and \
                    (w.startswith(("cancel", "quit")) or w.startswith(("disconnect", "terminat")) and prev & _I_AM) \
                    and not w.endswith("ed"):
                return i  # also "I'm done, cancelling tomorrow"
        elif w == "never":
            if never_again(r, i) and not (nxt == "again" and r.word(i + 2) in _INVERTED) and (
                    _to_someone(r) or nxt == "again" and (r.word(i + 2) == "" or r.word(i + 2) in SENTENCE_END)):
                # "Never again." alone; not "never again will I judge my sister" (a vow about the customer's life)
                return i
        elif w == "stay":
            if r.word(i - 1) in ("to", "i") and any(x in ("why", "reason", "reasons") for x in words[max(0, i - 5):i]) \
                    and (nxt in ("", "with", "loyal", "as", "because", "when", "if") or nxt in CLAUSE_END or
                         nxt.startswith("@")):
                return i  # "why should I stay?", "give me one reason to stay because EE just offered me more"
        elif w == "notice" and r.word(i - 1) not in ("travel", "fraud", "vacation", "holiday", "short"):
            if (nxt in ("period", "periods") or r.in_sentence(i, _ENDING) or r.word(i - 1) in (
                    "days", "day's", "days'", "weeks", "months") and r.in_sentence(i, L.HELD)) and not r.negated(i):
                return i  # asking for the notice period, or the notice to give to cancel, is asking how to leave
        elif w in ("exit", "termination"):
            if nxt in ("fee", "fees", "penalty", "penalties", "charge", "charges", "cost", "costs") and \
                    _CAME.isdisjoint(words):  # not "new customer coming from UPC, do you pay my exit fee there?"
                return i  # what leaving costs: "what is the exit fee?", "early termination fee"
        elif w == "cord":
            if r.word(i - 1) == "the" and r.word(i - 2).startswith("cut"):
                return i  # "cutting the cord": ending a cable or TV subscription
        elif w == "get" and nxt in ("out", "rid") and r.word(i + 2) == "of" and (r.cls(k := _object(r, r.next_content(
                i + 2, _EMPTY | _SPANS, 4))) & HELD or r.word(k) in ("deal", "term", "tie-in")):
            return i  # "I want to get out of my contract", "the cheapest way to get out of my 24 month deal"
        elif w in ("won't", "wont") or w == "not" and (r.word(i - 1) in ("will", "am", "i'm", "are", "we're")
                                                       or nxt in ("going", "gonna")) or w == "longer" and \
                r.word(i - 1) == "no":
            for j in range(i + 1, min(n, i + 6)):
                x = words[j]
                if x in CLAUSE_END:
                    break
                if x in _NOT_AGAIN or x in ("return", "returning") and (
                        r.word(j + 1) in ("", "to", "again", "here", "there", "ever") or r.word(j + 1) in CLAUSE_END
                        or r.word(j + 1).startswith("@")) or (
                        x == "back" and words[j - 1] in ("be", "come", "coming", "go", "going")) or (
                        x in ("customer", "client", "member", "subscriber") and "be" in words[i + 1:j]) or (
                        x == "business" and words[j - 1] in ("do", "doing")) or (
                        _CLASS_GET(x, 0) & NEVER_AGAIN and not x.endswith("ed") and x not in ("go", "come", "set",
                                                                                           "give", "get")
                        and "again" in words[j + 1:j + 5]):
                    return i
        elif w in ("lost", "lose", "losing", "loose"):
            if r.negated(i):
                continue
            if nxt in ("me", "us") and (r.word(i + 2) in ("as", "forever", "for", "today", "now", "")
                                        or r.word(i + 2) in CLAUSE_END):
                return i
            j = r.next_content(i, _EMPTY | {"another", "one", "loyal", "long", "time", "longtime", "paying",
                                            "valued", "good", "great", "faithful", "very", "regular"}, 4)
            if j >= 0 and (words[j] in ("customer", "customers", "client", "clients", "business", "custom",
                                        "subscriber", "subscribers") and words[j - 1] != "customer"):
                return i
            if j >= 0 and (words[j].isdigit() or _CLASS_GET(words[j], 0) & NUMBER) and r.word(j + 1) in (
                    "customers", "clients", "sales", "subscribers", "members", "users"):
                return i
        elif w == "done":
            if not r.negated(i) and (nxt == "with" and (r.word(i + 2) in ("you", "your", "y'all", "u") or
                                                         r.word(i + 2).startswith("@") or
                                                         r.word(i + 2) in ("this", "that") and r.cls(i + 3) & PROVIDER)
                                     or
                                      r.word(i - 1) in ("so", "officially", "completely", "totally")):
                return i
        elif w == "elsewhere" or w == "else" and r.word(i - 1) == "somewhere":
            before = words[max(0, i - 5):i]
            if any(x.startswith(("tak", "took", "go", "went", "shop", "look", "fly", "order", "spend", "mov", "buy",
                                 "bank", "book", "us")) for x in before) or any(
                    x.startswith(("found", "find")) for x in before) and not _VALUE.isdisjoint(before):
                return i
        elif w == "from":
            if nxt == "now" and r.word(i + 2) == "on" and not r.smask[s] & THANKS and patron(r, s) and \
                    _KIN_WILL.isdisjoint(words[max(0, i - 5):i]):  # not "my son, he'll be paying from now on"
                return i  # "I'll fly Delta from now on"; not "backing up everything from now on"
        elif w in ("goodbye", "bye"):
            x = r.word(i + 2) if nxt == "bye" else nxt
            if named(x) and x not in _PLACE_TOO:
                return i  # "goodbye @x", "bye bye @VirginMedia", "goodbye sky"
        elif w.startswith("boycott"):  # unsubscribing, stopping and quitting are verbs of ending: above
            return i
        elif w == "worth":
            if r.word(i - 1) == "not" and nxt in ("it", "the", "paying", "my"):
                return i
        elif w == "waste":
            if nxt == "of" and r.word(i + 2) == "money":
                return i
        elif w == "recommend":
            if r.negated(i, 2) and r.word(i - 1) not in ("you", "they"):
                return i
        elif w in ("regret", "regretting", "regrets"):
            if nxt.endswith("ing") or nxt == "ever":
                return i
        elif w == "mistake":
            if r.word(i - 1) == "biggest":
                return i
        elif w == "avoid":
            if not r.negated(i) and (nxt in ("you", "your", "them") or nxt.startswith("@")
                                     or nxt == "at" and r.word(i + 2) == "all"):
                return i
        elif w == "away":
            if r.word(i - 1) == "stay" and nxt == "from":
                return i
        elif w == "last":
            with_you = r.word(i + 3) in ("you", "u", "y'all") or r.word(i + 3).startswith("@")
            if r.word(i - 1) in ("my", "our") and nxt in ("month", "year", "week", "day", "bill", "payment") and \
                    r.word(i + 2) == "with" and with_you:
                return i  # "this is my last month with you"
            k = i + 3 if r.word(i + 2) in ("i", "we", "i'll", "we'll") else i + 4 if r.word(i + 2) in (
                "i", "we") and r.word(i + 3) in ("will", "ever") else -1
            if nxt == "time" and k > 0 and _CLASS_GET(r.word(k), 0) & NEVER_AGAIN and not r.word(k).endswith("ed") \
                    and r.word(k) not in ("go", "come", "give", "set", "get", "back"):
                return i
        elif w in ("give", "giving", "gave"):
            if nxt == "up" and r.word(i + 2) == "on":
                return i
        elif w in ("nunca", "jamas", "jam\u00e1s", "jamais"):
            if nxt in ("mas", "m\u00e1s", "plus") or nxt.startswith(("volv", "compr")):  # "jamas volvere a comprar"
                return i
    return leaving_step(r)  # leaving told as its steps: "the termination of my contract", "my porting code"


_VALUE = frozenset({"cheaper", "better", "deal", "deals", "offer", "offers", "price", "prices", "rate", "rates",
                    "plan", "plans", "provider", "bank", "carrier"})  # "found a cheaper offer elsewhere"
_ENDING = frozenset({"cancel", "terminate", "leave", "end", "close", "quit"})


def _unwanted(r: Reading, i: int) -> int:
    """After "no longer" or "don't": want or need (to keep, to have) what the customer holds: "no longer want to
    keep this account"; not "don't want a new card" nor "no longer need the transfer"."""
    j = r.next_content(i, frozenset({"want", "need", "to", "keep", "have", "use", "this", "my", "our", "the", "that",
                                     "these", "any", "of", "require", "your"}), 6)
    if ("be" in r.words[i + 1:i + 5] or r.word(i - 1) == "no") and r.word(r.next_content(i, frozenset({
            "want", "to", "be", "a", "your", "an"} | L.BRANDS), 6)) in ("customer", "client", "member", "subscriber"):
        return i  # "I don't want to be your customer anymore", "I'm no longer a Verizon customer"
    k = next((k for k in range(i + 2, min(r.n, i + 7)) if r.words[k] in ("you", "u")), -1)
    if k > 0 and CLAUSE_END.isdisjoint(r.words[i:k]) and (r.word(k + 1) == "anymore" or r.word(k + 1) in (
            "any", "no") and r.word(k + 2) == "longer"):
        return i  # "I don't want you anymore", "we don't want to be with you anymore"
    if j >= 0 and r.cls(j) & PROVIDER and r.word(j - 1) in ("this", "your", "that") and (
            "anymore" in r.words[j:j + 4] or r.word(j + 1) in ("any", "no") and r.word(j + 2) in ("more", "longer")):
        return i  # "I do not want this company anymore"
    return i if j >= 0 and r.cls(j) & HELD and r.word(j) not in ("all", "everything", "app", "number", "phone") \
        and r.word(j - 1) in ("this", "my", "our", "the", "that", "your") else -1
