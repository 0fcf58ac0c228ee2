"""Whose trouble a text tells, and whether it is lived: the customer's, or someone else's told as a story ("my
cousin in Berlin says the app was down"), news, a failure that may come, a feature talked about. A customer
writing for the household ("my mom's internet is down again") is the customer."""

from __future__ import annotations

from ticket_enricher.agents.rules.signals.reading import _ME, DOWN, Reading

# people whose trouble is theirs, not the customer's: "my cousin says the outage map is shrinking"
KIN = frozenset({"sister", "brother", "mum", "mom", "dad", "friend", "friends", "wife", "husband", "son", "daughter",
                 "roommate", "flatmate", "boss", "cousin", "uncle", "aunt", "kid", "kids", "neighbour", "neighbor",
                 "colleague", "colleagues", "coworker", "coworkers", "boyfriend", "girlfriend", "partner", "parents",
                 "grandpa", "grandma", "sister's", "brother's", "friend's", "mom's", "mum's", "dad's", "cousin's",
                 "wife's", "husband's", "son's", "daughter's", "neighbour's", "neighbor's", "boss's", "mate", "mate's",
                 "mates", "teammate", "teammates", "mother-in-law's", "in-laws"})


_OUTSIDE = frozenset({"friend's", "mate's", "colleague's", "coworker's", "neighbour's", "neighbor's", "boss's",
                      "cousin's", "brother's", "sister's"})
_CLAIMS = frozenset({"saying", "says", "said", "telling", "tells", "told", "claims", "claimed", "reckons", "swears"})
_OWN = frozenset({"my", "our", "i", "we", "i'm", "we're", "i've", "we've", "mine"})


def _their_claim(r: Reading, lo: int, i: int) -> bool:
    """A friend's or a colleague's claim, told to the customer: "my friend kept saying your network had no signal
    in Cornwall", "my teammate keeps telling me your network is slow"; not the household's ("my wife told me our
    internet is down") nor one with the customer's own trouble in it ("...told me my card was blocked")."""
    words = r.words
    for j in range(lo, i):
        h = next((h for h in range(j + 1, min(i, j + 4)) if words[h] in _CLAIMS), -1) if words[
            j] in _OUTSIDE_KIN else -1
        if h >= 0:
            return _OWN.isdisjoint(words[h + 1:i + 1])
    return False


_OUTSIDE_KIN = frozenset({"friend", "friends", "mate", "mates", "colleague", "colleagues", "coworker", "coworkers",
                          "teammate", "teammates", "neighbour", "neighbor", "neighbours", "neighbors", "boss",
                          "cousin"})
_CLAUSE_BREAK = frozenset({",", ";", ":", "but", "so", "and", "while"})
_SELF = frozenset({"i", "we", "me", "us", "i'm", "we're", "i've", "we've"})
_TOLD = frozenset({"says", "said", "texted", "told", "tells", "heard", "saw", "called", "she", "he", "her", "his",
                   "they", "their", "him", "them"})


def someone_elses(r: Reading, i: int) -> bool:
    """Whether the trouble at `i` is told of someone else: a kin or a friend is in its sentence, the customer
    ("i", "we", "me", "us") is not, and it is told as their story: by a verb of telling, "a friend's", or "she"
    ("a friend's flight got held for weather", "my cousin in Berlin says the app was down"); the kin comes before
    the trouble, as its owner or teller, not after it ("flight delayed 3 hours and they won't give my kids water");
    "my mom's internet is down again" is a customer's complaint for the household."""
    lo, hi = r.span(r.sentence_of(i))
    words = r.words[lo:hi]
    if KIN.isdisjoint(r.words[lo:i + 1]):
        return False
    if not _SELF.isdisjoint(words):  # a friend's, not the household's, in a clause with no first person: "my
        # friend's flight was delayed 6 hours, we're meeting in Rome and I'm already there"
        start = next((j + 1 for j in range(i - 1, lo - 1, -1) if r.words[j] in _CLAUSE_BREAK), lo)
        return any(r.words[j] in _OUTSIDE for j in range(start, i)) and _SELF.isdisjoint(r.words[start:i + 1]) or \
            _their_claim(r, lo, i)
    return not _TOLD.isdisjoint(words) or any(r.word(k - 1) in ("a", "an") for k in range(lo, hi) if r.words[
        k] in KIN) or _their_claim(r, lo, i)


_NEWS = frozenset({"reportedly", "according", "news", "headline", "headlines", "breaking", "per", "heard", "reading",
                   "apparently", "announced", "announces", "announcing", "earnings", "read", "saw"})
_MAY = frozenset({"might", "may", "could", "will", "gonna", "would"})
_TOGGLES = frozenset({"toggle", "toggles", "switch", "button", "feature", "setting", "settings", "option"})
_AHEAD = frozenset({"tonight", "tomorrow", "later", "next", "upcoming", "weekend", "overnight", "planned",
                    "scheduled"})


def news(r: Reading, s: int) -> bool:
    """Whether sentence `s` is news or hearsay with no first person in it: "internet outage at the county
    courthouse, per local news", "apparently the @x outage was a cut cable", "saw that @x customers got a credit",
    "price going up again next month, per the email"."""
    lo, hi = r.span(s)
    words = r.words[lo:hi]
    if _NEWS.isdisjoint(words) or not _ME.isdisjoint(words):
        return False
    for k, w in enumerate(words, lo):
        if w not in _NEWS:
            continue
        after = r.word(k + 1)
        if w == "per" and after not in ("local", "the", "reports", "news", "sources", "their", "its", "an", "a"):
            continue
        if w in ("read", "saw") and after not in ("that", "the", "on", "in", "about", "how"):
            continue  # "read" alone is no hearsay: "read receipts"
        return True
    return False


def not_lived(r: Reading, i: int) -> bool:
    """Whether the failure at `i` is not one the customer lives: news with no first person in its sentence
    (`news`), someone else's story, one that may come ("the servers might actually go down tonight"; not "will it
    go down again?"), or maintenance announced ahead ("network down for maintenance tonight")."""
    words = r.words
    s = r.sentence_of(i)
    if news(r, s):
        return True
    if words[i] in ("down", "crash", "fail", "break") and not _MAY.isdisjoint(words[max(0, i - 4):i]) and \
            "again" not in words[max(0, i - 4):i + 3]:
        return True
    lo, hi = r.span(s)
    if "maintenance" in words[lo:hi] and (not _AHEAD.isdisjoint(words[lo:hi]) or r.word(i - 1) == "going") and \
            "again" not in words[lo:hi]:
        return True  # "servers going down for maintenance tonight"; not "down for maintenance again, next time warn us"
    return someone_elses(r, i) or a_topic(r, i)


_HEARD = frozenset({"heard", "hear", "reading", "read", "noticed", "remember", "remembering", "saw", "watching",
                    "covering", "about", "over"})
_FINED = frozenset({"fined", "sued", "apologised", "apologized", "fine"})
_TOOLS = frozenset({"alert", "alerts", "map", "maps", "tracker", "notification", "notifications", "checker", "status",
                    "page"})
_ON_THE_WAY = frozenset({"the", "a", "an", "that", "this", "about", "of", "big", "massive", "huge", "whole", "famous",
                         "great", "global", "latest", "entire"})


def a_topic(r: Reading, i: int) -> bool:
    """Whether the outage at `i` is a topic, not a trouble lived: heard of, read about or remembered ("heard the
    @x outage in Denver hit half my coworkers", "reading about the CrowdStrike outage", "fined over an IT outage"),
    or dated ("the @x outage in 2021 was wild"), or a tool ("the outage map is shrinking"), even in a sentence
    with a first person."""
    words = r.words
    if words[i] not in ("outage", "outages"):
        return False
    if r.word(i + 1) in _TOOLS:
        return not any(r.cls(k) & DOWN for k in range(r.n) if k != i)  # "the outage alerts by text are useful"
    dated = r.word(i + 1) == "in" and r.word(i + 2).isdigit() and len(r.word(i + 2)) == 4
    return (dated or _heard_of(r, i)) and not _lived_elsewhere(r, i)


def _heard_of(r: Reading, i: int) -> bool:
    """Whether a verb of hearing or reading governs the outage at `i`, with only determiners, names and handles
    between ("heard the @x outage", "reading about the CrowdStrike outage", "fined @x over an IT outage")."""
    words = r.words
    for k in range(i - 1, max(-1, i - 6), -1):
        w = words[k]
        if w in _HEARD:
            return w != "over" or not _FINED.isdisjoint(words[max(0, k - 3):k])
        if not (w in _ON_THE_WAY or w.startswith("@") or r.text.written(k)[:1].isupper()):
            return False
    return False


def _lived_elsewhere(r: Reading, i: int) -> bool:
    """Whether a sentence other than the one of `i` tells a failure with a first person: "I heard about the
    outage. my internet is down"."""
    s = r.sentence_of(i)
    for t in {r.sentence_of(k) for k in range(r.n) if r.cls(k) & DOWN} - {s}:
        lo, hi = r.span(t)
        if not _ME.isdisjoint(r.words[lo:hi]):
            return True
    return False


_LOCKS = ("lock", "freez", "froze", "block", "declin", "suspend", "restrict", "disabl", "reject")
_ASKS = frozenset({"does", "do", "will", "would", "is", "can", "could", "what", "what's", "whats", "how"})


def hypothetical(r: Reading, i: int) -> bool:
    """Whether a lock or a refusal at `i` is asked about, not lived: a question with it under "if" ("if my card is
    declined abroad, do I still pay the fee?", "what happens to my direct debits if I freeze my card?"), in the
    future ("will my account get locked if I don't use it?"), or as a gerund ("does freezing my card affect my
    credit score?")."""
    words = r.words
    lo, hi = r.span(r.sentence_of(i))
    if r.word(hi) != "?" and "?" not in words[i:hi]:
        return False
    # the lock word itself when `i` is what is locked ("will my account get locked")
    i = next((k for k in r.around(i, 3, 3)
              if words[k].startswith(_LOCKS)), i)
    for k in range(i - 1, lo - 1, -1):
        if words[k] in (",", ";", ":", "but", "and", "because"):
            break
        if words[k] == "if":
            # not "what should I do if my card isn't working?", "what if I typed my PIN wrong too many times?": help
            # asked for what has happened
            return r.word(k - 1) != "what" and "do" not in words[lo:k] and "solve" not in words[k:hi] and \
                "fix" not in words[k:hi]
    if r.word(i - 1) in ("get", "be") and "will" in words[max(lo, i - 5):i]:
        return True
    return words[i].endswith("ing") and r.word(i - 1) not in ("keeps", "keep", "is", "are", "was", "been") and \
        words[lo] in _ASKS


def a_feature(r: Reading, i: int) -> bool:
    """Whether a lock at `i` is a feature talked about, not a lock the customer is in: "the locked card toggle is
    so smart", "does locking my card also block contactless?"."""
    lo, hi = r.span(r.sentence_of(i))
    words = r.words[lo:hi]
    return not _TOGGLES.isdisjoint(words) or r.word(hi) == "?" and "locking" in words and not {
        "does", "do", "will", "can", "if"}.isdisjoint(words)


# the writer says they were not hit: "all fine here in LA", "nobody noticed", "glad I'm flying next week instead"
_SPARED = (("all", "fine"), ("all", "good"), ("totally", "fine"), ("fine", "here"), ("nobody", "noticed"),
           ("no", "one", "noticed"), ("didn't", "notice"), ("didnt", "notice"), ("oh", "wait"), ("glad", "i'm"),
           ("glad", "i"), ("glad", "we"), ("lucky", "i"), ("lucky", "we"), ("not", "complaining"),
           ("no", "complaints"), ("can't", "complain"), ("cant", "complain"), ("made", "my", "connection"),
           ("still", "made", "it"), ("mine", "was", "fine"), ("mine", "is", "fine"), ("mine's", "fine"),
           ("fine", "for", "me"), ("mine", "never"), ("no", "harm", "done"), ("nothing", "wrong"),
           ("not", "having", "issues"), ("had", "no", "issue"), ("had", "no", "issues"))
_SPARED_FIRST = frozenset(p[0] for p in _SPARED)
_NOT_SPARED = frozenset({"now", "again", "but", "about", "until", "till", "til", "before", "then", "yesterday"})
_MISSED_IT = frozenset({"instead", "wasn't", "weren't", "not", "didn't", "missed", "dodged"})


def spared(r: Reading) -> bool:
    """Whether the writer says the trouble missed them: "all fine here in LA", "nobody at the office noticed",
    "glad I'm flying next week instead", "oh wait that's just my laptop"; not "all good now" or "all fine again"
    after a fix (it was theirs), nor "not all good"."""
    words = r.words
    if _SPARED_FIRST.isdisjoint(words):
        return False
    for k, w in enumerate(words):
        if w not in _SPARED_FIRST or r.word(k - 1) in ("not", "isn't", "wasn't", "never", "barely", "almost"):
            continue
        for p in _SPARED:
            if p[0] != w or tuple(words[k:k + len(p)]) != p:
                continue
            after = words[k + len(p):k + len(p) + 3]
            if not _NOT_SPARED.isdisjoint(after):
                continue  # "all good now": it was theirs, and it is over; "not complaining, but...", "fine for me
                # until Monday"
            if w in ("glad", "lucky") and not {"only", "alone", "just"}.isdisjoint(words[k:k + 8]):
                continue  # "glad I'm not the only one": company in trouble, not spared it
            if w not in ("glad", "lucky") or not _MISSED_IT.isdisjoint(words[k:k + 10]):
                return True
    return False


# a failure put right: "unlocked it in seconds", "had it sorted in 2 mins", "got back into my account"
_OVER = frozenset({"sorted", "fixed", "resolved", "solved", "unlocked", "restored", "reinstated", "reactivated",
                   "settled", "reversed"})
_UP = frozenset({"good", "fine", "ok", "okay", "working", "great", "perfect", "perfectly", "back", "better",
                 "sorted", "fixed", "happy", "the"})
_WISH = frozenset({"get", "getting", "be", "being", "to", "want", "wants", "need", "needs", "needed", "can", "could",
                   "please", "pls", "will", "would", "hope", "until", "till", "when", "if", "gets"})
_NOT_OVER = frozenset({"still", "again", "yet", "but", "however", "although", "though", "?", "now"})
_SOON = frozenset({"within", "straight", "same", "immediately", "instantly", "right", "quickly", "fast", "in"})
_THANKS = ("thank", "thx", "cheers", "kudos", "props", "shout")
_THANKED_FOR = frozenset({"sorting", "fixing", "resolving", "catching", "spotting", "flagging", "stopping"})
_SHORT = frozenset({"wrong", "only", "half", "partial", "partially", "less", "missing", "short"})


def _money_back(r: Reading, j: int) -> bool:
    """The customer's money came back, told as done: "refunded within 24 hours", "the refund came through", "got
    my money back from a dodgy merchant"; not a part of it ("refunded only half") nor a wish (`over` checks)."""
    w, words = r.words[j], r.words
    if w == "refunded":
        ok = r.word(j + 1) in _SOON and r.word(j - 1) not in ("be", "being", "get")  # "refunded straight to my card"
    elif w == "through":
        ok = r.word(j - 1) == "came" and "refund" in words[max(0, j - 4):j]
    elif w == "back":
        before = words[max(0, j - 4):j]  # "got my money back", "money back same day"; not "want my money back asap"
        ok = r.word(j - 1) == "money's" or r.word(j - 1) == "money" and (not {"got", "received", "had"}.isdisjoint(
            before) or r.word(j + 1) in _SOON and r.word(j + 1) != "in" and _WISH.isdisjoint(before))
    else:
        return False
    lo, hi = r.span(r.sentence_of(j))
    # a part of the money ("refunded only half"), not the order it was for ("refunded for the wrong size")
    return ok and not any(x in _SHORT and words[k - 2:k] != ["for", "the"] for k, x in enumerate(words[lo:hi], lo))


def over(r: Reading) -> bool:
    """Whether the text tells its failure put right, as a statement: "the app unlocked it in seconds", "had it
    sorted in 2 mins", "the outage was sorted so quickly", "finally got back into my account"; not a wish ("can
    you get it sorted?", "please have it fixed") nor one that came back ("fixed, but it's down again", "they said
    it was sorted and it still isn't")."""
    words = r.words
    for j, w in enumerate(words):
        done = w in _OVER or w == "back" and r.word(j + 1) in ("in", "into", "online") and r.word(j - 1) in (
            "got", "am", "i'm", "we're", "finally") or _money_back(r, j) or w in _THANKED_FOR \
            and r.word(j - 1) == "for" and any(x.startswith(_THANKS) for x in words[max(0, j - 5):j])
        if not done or r.negated(j, 3) or w == "reversed" and (r.word(j + 2) in ("refund", "credit") or r.word(
                j - 1) not in ("it", "was", "were", "got", "been", "and")):
            continue  # "thank you Sofia for sorting the double charge", "it got reversed"; not "they reversed my
            # refund", "I would like the charge reversed"
        it = r.word(j - 1) in ("it", "this", "that", "them", "everything", "all")
        before = r.word(j - 2) if it else r.word(j - 1)
        if before in _WISH or r.word(j - 1) in _WISH:
            continue
        lo, hi = r.span(r.sentence_of(j))
        later = [x for k, x in enumerate(words[j + 1:], j + 1) if x != "now" or k > j + 1 and _UP.isdisjoint(
            words[k + 1:k + 4])]  # "all sorted now", "fixed it. Now it's the fastest app": over, and still so
        if "?" in words[lo:hi + 1] or not _NOT_OVER.isdisjoint(later) or "said" in words[max(0, j - 5):j]:
            continue
        return True
    return False
