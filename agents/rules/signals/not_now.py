"""Troubles a text names that are not the customer's now: asked about ahead ("if my flight is diverted, does my
insurance cover the hotel?"), denied ("the train had zero delay", "never once had my card declined"), another
company's ("cancelled by a different airline"), gone and told so ("it came back on its own", "now is working very
good", "the app used to crash"), or past in a glad text. Each check starts from the word a detector found (`i`),
which may be the trouble's subject ("my card") rather than its verb."""

from __future__ import annotations

from ticket_enricher.agents.rules.signals.reading import Reading

# the words a trouble is told by, as stems: where a check looks near `i` for the trouble itself
_TROUBLE = ("crash", "down", "declin", "block", "lock", "delay", "cancel", "outage", "offline", "froze", "freez",
            "lag", "fail", "suspend", "divert", "late", "strand", "buffer", "drop")
_NOT_TROUBLE = ("download", "downstair", "downtown", "downsiz", "later", "latest", "lately", "blockbuster", "dropbox",
                "locker", "lockdown")


def _troubled(w: str) -> bool:
    """Whether `w` is a word a trouble is told by ("crashed", "declined", "delays"), not one that only starts like
    one ("download", "later")."""
    return w.startswith(_TROUBLE) and not w.startswith(_NOT_TROUBLE)


_BREAK = frozenset({",", ";", ":", "but", "because", "since", "though", "although"})
_HELP = frozenset({"do", "fix", "solve", "should"})
_LIVED = frozenset({"was", "were", "been", "had", "got", "has", "have", "already"})


def not_now(r: Reading, i: int, trip: bool) -> bool:
    """Whether the trouble found at `i` is asked about ahead, denied, another company's, or (not for a trip, whose
    delay told as over or gladly is still the complaint: "delayed 3 hours, finally boarding") put back and told so
    after it, or past in a glad text."""
    k = _trouble_word(r, i)
    return _asked_ahead(r, k, trip) or k != i and _asked_ahead(r, i, trip) or _denied(r, k) or _elsewhere(r, k) \
        or not trip and (_put_back(r, k) or _past_and_glad(r, k))


_PAST = frozenset({"was", "were", "went", "had", "got", "did", "been", "last", "yesterday", "earlier", "once"})
_LIVE = frozenset({"still", "again", "yet", "can't", "cant", "cannot", "won't", "wont", "isn't", "isnt", "aren't",
                   "keeps", "keep", "now", "currently", "today", "right"})


def _past_and_glad(r: Reading, k: int) -> bool:
    """A failure told in the past in a glad text with nothing live in it: "the power was down for 4 hours after
    the storm and the crews were out in the rain sorting it, thank you lads", "the app froze once last month,
    now it's the fastest app on my phone". Not for a trip: a delay told gladly is most often sarcasm ("Wow, 7
    hours late and the only info we got was a push notification")."""
    words = r.words
    lo, hi = r.span(r.sentence_of(k))
    if _PAST.isdisjoint(words[max(lo, k - 4):hi]):
        return False
    if not _LIVE.isdisjoint(words) or "?" in words:
        return False
    return r.text.compound >= 0.5


def _trouble_word(r: Reading, i: int) -> int:
    """The word of trouble nearest `i` in its sentence, or `i`: "my card ... declined" -> "declined"."""
    return next((k for k in r.around(i, r.n, r.n) if _troubled(r.words[k]) or r.words[k] == "no" and abs(k - i) < 3), i)


def _asked_ahead(r: Reading, k: int, trip: bool) -> bool:
    """A question with the trouble under "if", "in case" or "whenever" ("if the train gets cancelled because of
    strikes, do I get a full refund?", "what happens to my booking if flights get cancelled?"), or in a purpose
    it is to prevent ("travel notifications so it doesn't get blocked?"); not help asked for what has happened
    ("what do I do if my card isn't working?", "what if my flight is delayed?")."""
    words = r.words
    lo, hi = r.span(r.sentence_of(k))
    if r.word(hi) != "?" and "?" not in words[k:hi]:
        return False
    for j in range(k - 1, lo - 1, -1):
        w = words[j]
        if w in _BREAK:
            break
        if w in ("if", "whenever") or w == "case" and r.word(j - 1) == "in":
            if not _LIVED.isdisjoint(words[j + 1:k]) or trip and not {"my", "our"}.isdisjoint(words[j + 1:k]) and \
                    not _curious(r):
                return False  # "am I owed anything if my flight was cancelled?": it was; "do I get a refund if my
                # flight is cancelled?" is most often asked by one whose flight is, unless the text says it is not
                # ("just want to know before I book")
            return r.word(j - 1) != "what" and _HELP.isdisjoint(words[lo:j]) and "fix" not in words[j:hi] and \
                "solve" not in words[j:hi]
        if w == "so" and r.negated(k, 3):
            return True  # "so it doesn't get blocked?"
    return False


_CURIOUS = frozenset({"curious", "curiosity", "hypothetically", "hypothetical", "nosy", "budgeting"})
_AHEAD_OF = frozenset({"i", "we", "booking", "buying", "travelling", "traveling", "flying", "going"})


def _curious(r: Reading) -> bool:
    """Whether the text says its question is asked ahead or out of curiosity: "just curious", "purely nosy",
    "hypothetically", "before I book"."""
    words = r.words
    return not _CURIOUS.isdisjoint(words) or any(
        w == "before" and r.word(j + 1) in _AHEAD_OF and (r.word(j + 1) not in ("i", "we") or r.word(j + 2) in (
            "book", "travel", "fly", "buy", "go", "sign", "order")) for j, w in enumerate(words))


_CLAUSE = frozenset({",", ";", ":", "but", "so", "and", "because", "while", ".", "!", "?"})
_OTHER = frozenset({"another", "different", "other"})
_FIRM = frozenset({"airline", "airlines", "carrier", "network", "provider", "bank", "company", "operator", "isp",
                   "supplier", "app", "service"})


def _elsewhere(r: Reading, k: int) -> bool:
    """The trouble's own clause puts it with another company: "my flight was cancelled by a different airline so
    I booked with you", "his flight with another airline got cancelled"."""
    words = r.words
    lo = next((j + 1 for j in range(k - 1, -1, -1) if words[j] in _CLAUSE), 0)
    hi = next((j for j in range(k + 1, r.n) if words[j] in _CLAUSE), r.n)
    return any(words[j] in _OTHER and r.word(j + 1) in _FIRM and not {"by", "with"}.isdisjoint(
        (r.word(j - 1), r.word(j - 2))) for j in range(lo, hi))  # not "rebooked onto another airline"


_WISHED = frozenset({"again", "please", "pls", "plz", "!"})
_NONE = frozenset({"zero", "no", "without"})
_COUNTED = ("delay", "outage", "crash", "lag", "issue", "problem", "cancellation", "buffer", "dropout")


def _denied(r: Reading, k: int) -> bool:
    """The trouble said not to have happened: "had zero delay", "without a single outage", "never once had my card
    declined", "hasn't crashed once"; a service that never works is no denial ("it never works" is not found at
    a word of trouble)."""
    words = r.words
    if any(words[j] == "no" and r.word(j + 1) == "more" for j in range(max(0, k - 4), k + 1)):
        return _WISHED.isdisjoint(words[k:])  # "no more dead zones in the loft", "no more buffering"; not "no more
        # outages please", a wish
    if not _troubled(words[k]):
        return False
    if words[k].startswith(_COUNTED) and (r.word(k - 1) in _NONE or r.word(k - 2) in _NONE and r.word(k - 1) in (
            "single", "one", "a", "any") or r.word(k - 1) in ("single", "one") and r.negated(k - 1, 3)):
        return True  # "zero buffering", "without a single outage", "hasn't had a single outage"
    lo = r.span(r.sentence_of(k))[0]
    for j in range(k - 1, max(lo, k - 7) - 1, -1):
        if words[j] in _BREAK:
            return False
        if words[j] == "never":
            return True
    return r.word(k + 1) == "once" and r.negated(k, 2)


# what follows a word of working again as part of it ("works fine", "working again"): the check for "still" or
# "but" starts after it
_UP = frozenset({"good", "fine", "ok", "okay", "working", "works", "fast", "faster", "fastest", "great", "perfect",
                 "perfectly", "back", "better", "smooth", "smoothly", "flawless", "stable", "normal", "normally",
                 "again", "now"})
_WAS_BACK = frozenset({"came", "is", "was", "it's", "its", "were", "are", "been", "everything's", "all"})
_AGAIN_NOW = frozenset({"again", "now"})
_PART = frozenset({"for", "on", "with", "in", "when", "if", "except", "apart", "via", "through", "from"})
_STILL = frozenset({"still", "again", "but", "however", "though", "although", "until", "till", "yet", "?"})


def _put_back(r: Reading, k: int) -> bool:
    """The trouble over and told so at or after it: "it came back on its own", "it was back", "now is working
    very good", "everything's fast again", "the app used to crash"; not one that came back ("the error came back",
    "back on now but it keeps dropping") nor a service working beside one that is not ("4G works fine but wifi
    is down")."""
    words = r.words
    if r.word(k - 1) == "to" and r.word(k - 2) == "used":
        return True
    for j in range(k + 1, r.n):
        w = words[j]
        if w == "back":
            ok = r.word(j - 1) in _WAS_BACK and r.word(j + 1) not in ("down", "off", "out", "to", "again") and not \
                any(_troubled(x) or x in ("problem", "issue", "error") for x in words[max(0, j - 4):j])
        elif w in ("working", "works"):  # "working again", "now is working", "works fine now"
            ok = not _AGAIN_NOW.isdisjoint((r.word(j - 2), r.word(j - 1), r.word(j + 1), r.word(j + 2))) and \
                r.word(j - 1) not in ("was", "were", "stopped") and not r.negated(j, 3)
        elif w in ("strong", "since"):  # "still going strong 4 months later", "been fine since"
            ok = w == "strong" and r.word(j - 1) == "going" or w == "since" and r.word(j - 1) in (
                "fine", "perfect", "perfectly", "flawless", "solid", "stable")
        elif w == "again":
            ok = r.word(j - 1) in ("fast", "fine", "online", "normal", "working", "smooth")
        else:
            continue
        after = j + 2 if w != "again" and r.word(j + 1) in _UP else j + 1
        if w != "back" and r.word(after) in _PART:
            continue  # "works fine for checking my balance": a part that works beside one that does not
        if ok and _STILL.isdisjoint(words[after:]) and not (w == "again" and r.negated(j - 1, 3)):
            return True
    return False
