"""Persistence and mood: repeats, no answer, thanks or a fix, and how angry the message is."""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from ticket_enricher.agents.rules import lexicons as L
from ticket_enricher.agents.rules.language import CLAUSE_END
from ticket_enricher.agents.rules.signals.reading import (
    _CLASS_GET,
    ACCOUNT,
    BLOCKED,
    CONDEMN,
    DISTRESS,
    DOWN,
    GONE,
    MILD,
    NEG,
    NOBODY,
    NUMBER,
    ORDINAL,
    RESOLVED,
    SERVICE,
    STILL_BAD,
    T_OTHER,
    T_REPEAT,
    T_UNRESOLVED,
    THANKS,
    TRIP_BAD,
    UNRESOLVED,
    Reading,
)

if TYPE_CHECKING:
    from ticket_enricher.agents.rules.signals import Signal


def repeat_contact(r: Reading) -> int:
    """Repeats counted in numbers or said outright: "8th time this month", "called 5 times", "2 different
    agents", "again and again", "every time", "keeps dropping", "still not fixed", "down again"."""
    if not r.mask & T_REPEAT:
        return -1
    words = r.words
    for i, c, _ in r.hits:
        if not c & T_REPEAT:
            continue
        w = words[i]
        if w.isdigit() or c & NUMBER:
            if w.isdigit() and len(w) > 3:
                continue
            j = r.next_content(i, frozenset({"different", "separate", "more", "other", "whole", "full", "phone",
                                             "seperate"}), 3)
            x = r.word(j)
            if x in ("times", "calls", "emails", "messages", "dms", "tweets", "attempts", "tries", "chats",
                     "agents", "reps", "representatives", "complaints", "occasions", "visits", "letters",
                     "requests", "people", "e-mails") and r.word(i - 1) not in ("$", "\u00a3", "\u20ac"):
                if x == "times" and r.word(j + 1) in ("the", "more", "as", "faster", "slower", "better"):
                    continue
                return i
        elif c & ORDINAL:
            if w == "second" and r.word(i - 1) in ("a", "one", "per", "every") or r.word(i + 1) in (
                    "hand", "class", "half", "floor", "day", "week", "month", "year", "quarter"):
                continue
            j = r.next_content(i, frozenset({"straight", "consecutive", "single", "different", "separate", "time"}),
                               2)
            x = r.word(j)
            if x in ("time", "times", "call", "email", "message", "attempt", "request", "complaint", "outage",
                     "failure", "problem", "issue", "incident", "delay", "cancellation", "occasion", "visit",
                     "letter", "ticket", "order", "week", "month", "day") or r.word(i + 1) == "time":
                if x in ("week", "month", "day") and r.word(i - 1) in ("the", "this", "a", "every"):
                    continue
                return i
        elif w == "again":
            prev, nxt = r.word(i - 1), r.word(i + 1)
            if prev in ("yet", "once") or nxt == "and" and r.word(i + 2) == "again":
                return i
            for j in range(max(0, i - 4), i):
                x = words[j]
                if x in CLAUSE_END:
                    continue
                cx = _CLASS_GET(x, 0)
                if cx & (DOWN | TRIP_BAD | GONE | BLOCKED) and not cx & SERVICE or x in (
                        "happened", "happening", "happens", "messed", "screwed", "wrong", "charged", "billed",
                        "late", "same", "broke", "failed", "cancelled", "canceled", "declined", "lost", "crashed",
                        "missing", "damaged", "stolen", "delayed", "overcharged", "down", "broken"):
                    return i
        elif w in ("over", "time", "every", "all", "constantly", "repeatedly", "continually", "everyday",
                   "continuously"):
            nxt = r.word(i + 1)
            if w in ("constantly", "repeatedly", "continually", "everyday", "continuously") or \
                    w == "over" and nxt == "and" and r.word(i + 2) == "over" or \
                    w == "time" and nxt == "after" and r.word(i + 2) == "time" or \
                    w == "every" and (nxt in ("time", "day", "night", "morning", "week", "month", "evening") or
                                      nxt == "single" and r.word(i + 2) in ("time", "day")) and \
                    not r.in_sentence(i, {"thank", "thanks", "love", "great"}) or \
                    w == "all" and nxt == "the" and r.word(i + 2) == "time":
                return i
        elif w in ("keeps", "keep", "kept") and r.word(i + 1).endswith("ing") and r.word(i + 1) not in (
                "thinking", "going", "coming", "waiting", "trying", "telling", "asking", "buying", "using",
                "ordering", "everything", "getting", "making", "looking", "wondering"):
            return i
        elif w == "still" and (r.cls(i + 1) & STILL_BAD or r.word(i + 1) in ("being", "been") and r.word(i + 2) in (
                "charged", "billed", "ignored")):
            if not r.in_sentence(i, {"thanks", "thank", "love", "great", "enjoy", "like"}):
                return i
        elif w == "same" and r.word(i + 1) in ("problem", "issue", "thing", "error", "story", "response", "answer",
                                               "reply", "message"):
            return i
        elif w == "how" and r.word(i + 1) == "many" and r.word(i + 2) in ("times", "more", "calls", "emails"):
            return i
    return -1


_ANSWER_NOUNS = frozenset({"response", "responses", "reply", "replies", "answer", "answers", "solution",
                           "resolution", "update", "updates", "callback", "follow-up", "luck", "dice", "help",
                           "one", "word", "contact", "avail", "acknowledgement", "action", "assistance",
                           "explanation", "refund", "compensation"})
_ANSWER_VERBS = frozenset(w for w in L.ANSWER if not w.endswith(("tion", "ies", "ses")) and w not in _ANSWER_NOUNS
                          or w in ("help", "contact")) | {"call", "called", "get", "got", "hear", "heard",
                                                          "follow", "followed", "bothered", "bother", "email",
                                                          "emailed", "reached", "touch"}


def unresolved(r: Reading) -> int:
    """No answer, no help, no resolution: "no response", "nobody answers", "never called back", "ignored", "on
    hold", "still waiting", "useless", "refused my claim"."""
    if not r.mask & T_UNRESOLVED:
        return -1
    words = r.words
    n = r.n
    for i, c, _ in r.hits:
        if not c & T_UNRESOLVED:
            continue
        w = words[i]
        if w in ("no", "zero", "without"):
            j = r.next_content(i, frozenset({"real", "proper", "any", "further", "more", "one's", "reply", "kind",
                                             "of", "actual", "useful", "satisfactory"}), 3)
            x = r.word(j)
            if x in _ANSWER_NOUNS and x not in ("refund", "compensation") and not (x == "one" and r.word(j + 1) in (
                    "else", "of")) and not r.in_sentence(i, {"worries", "problem", "thanks", "thank", "need"}):
                return i
        elif c & NOBODY or w in ("no-one", "noone") or w == "one" and r.word(i - 1) == "no":
            for j in range(i + 1, min(n, i + 5)):
                x = words[j]
                if x in CLAUSE_END:
                    break
                if x in _ANSWER_VERBS or x.startswith(("answer", "respond", "repl", "help", "call", "care",
                                                       "bother", "seem", "knows", "know", "can")):
                    if x in ("can", "seem", "seems") and not any(words[k].startswith(("help", "answer", "fix",
                                                                                      "tell", "explain", "sort",
                                                                                      "resolv"))
                                                                 for k in range(j + 1, min(n, j + 4))):
                        continue
                    return i
        elif c & NEG or w.endswith("n't"):
            if w in ("no", "not", "never") and r.word(i - 1) in ("if", "whether"):
                continue
            for j in range(i + 1, min(n, i + 4)):
                x = words[j]
                if x in ("even", "yet", "ever", "been", "be", "bothered", "to", "you", "they", "anyone", "we", "i",
                         "got", "get", "able", "properly", "really", "actually", "helped", "have"):
                    if x in ("helped", "bothered"):
                        return i
                    continue
                if x in ("answer", "answered", "answering", "respond", "responded", "responding", "reply",
                         "replied", "replying", "resolved", "fixed", "solved", "sorted", "resolve", "fix", "solve",
                         "help", "helping", "helpful", "acknowledged", "heard", "hear", "assist", "assisted",
                         "returned") or x in ("return", "returning") and r.word(j + 1) in ("my", "our", "any") or \
                        x in ("call", "called", "calling", "get", "got", "gotten", "getting", "heard", "hear",
                              "followed", "follow", "wrote", "write", "email", "emailed", "contacted") and \
                        r.word(j + 1) in ("back", "up", "from"):
                    if x in ("help", "fix", "resolve", "solve", "assist") and w in ("not", "no") and r.word(
                            i - 1) in ("if", "whether", "might", "could", "may"):
                        break
                    if x == "help" and r.word(j + 1) in ("but", "it", "thinking", "feeling", "myself", "noticing",
                                                         "wondering", "laughing"):
                        break
                    return i
                break
        elif c & UNRESOLVED:
            if w.startswith("escalat") and r.in_sentence(i, {"thanks", "thank"}):
                continue
            if w.startswith("ignor") and r.word(i + 1) in ("the", "this", "that", "it", "my", "me", "us", "our",
                                                           "") or w.startswith("ignor") and r.word(i - 1) in (
                    "been", "being", "keep", "keeps", "you", "they", "just", "totally", "completely", "was", "were",
                    "get", "getting", "got", "still"):
                return i
            if not w.startswith("ignor"):
                return i
        elif w == "hold" and r.word(i - 1) == "on" and not r.cls(i + 1) & ACCOUNT:
            if r.in_sentence(i, {"hour", "hours", "minutes", "mins", "min", "again", "been", "still", "forever",
                                 "ages", "waiting", "hrs", "hr"}):
                return i
        elif w == "hung" and r.word(i + 1) == "up":
            return i
        elif w == "waiting" and r.word(i - 1) in ("still", "been", "keep", "kept", "keeps"):
            return i
        elif w == "waiting" and r.word(i + 1) in ("for", "on", "since") and any(
                words[j] in ("days", "weeks", "months", "hours", "year", "ages", "forever", "reply", "response",
                             "answer", "refund", "compensation", "callback") for j in range(i + 2, min(n, i + 8))):
            return i
        elif w in ("denied", "refused", "rejected", "declined", "refuse", "refusing", "refuses", "deny", "denies",
                   "denying", "reject", "rejects") and any(
                words[j] in ("refund", "claim", "compensation", "request", "appeal", "credit", "claims", "requests",
                             "reimbursement", "complaint", "help") for j in range(i + 1, min(n, i + 5))):
            return i
        elif w == "entitled" and r.word(i - 1) == "not":
            return i
        elif w == "waste" and r.word(i + 1) == "of" and r.word(i + 2) in ("time", "my"):
            return i
        elif w == "avail" and r.word(i - 1) == "no":
            return i
        elif w == "helpful" and r.word(i - 1) in ("not", "never", "isn't", "wasn't"):
            return i
    return -1


_PRAISE_AFTER = {"great": {"help", "service", "support", "job", "work", "experience", "team"},
                 "excellent": {"help", "service", "support", "job", "work", "experience", "team"},
                 "amazing": {"help", "service", "support", "job", "work", "experience", "team"},
                 "love": {"you", "it", "this", "your", "the", "that"}, "best": set(), "good": {"job", "service"},
                 "worries": set(), "perfect": set(), "awesome": set(), "brilliant": set(), "wonderful": set(),
                 "fantastic": set(), "helpful": set()}


def satisfied(r: Reading) -> int:
    """Thanks, a fix or praise, not negated: "thanks, all sorted", "works now", "great help", "you're the best",
    "no worries"."""
    if not r.mask & (THANKS | RESOLVED):
        return -1
    words = r.words
    for i, m, _ in r.hits:
        if not m & (THANKS | RESOLVED) or r.negated(i):
            continue
        w = words[i]
        after = _PRAISE_AFTER.get(w)
        if after is not None:
            prev, nxt = r.word(i - 1), r.word(i + 1)
            if not (nxt in after or w == "worries" and prev == "no" or w == "best" and prev in ("the", "da")
                    or prev in ("you're", "youre", "are", "so", "very", "was", "been", "is", "you") and w in (
                        "awesome", "amazing", "brilliant", "wonderful", "fantastic", "perfect", "helpful", "great")
                    or w == "perfect" and (i == 0 or prev in CLAUSE_END)):
                continue
            return i
        if m & THANKS or _resolved_at(r, i):
            return i
    return -1


def _resolved_at(r: Reading, i: int) -> bool:
    """ "sorted", "fixed", "resolved", "solved", "works now", "working now", "all good", "got it", "found it"."""
    w = r.words[i]
    return w in ("sorted", "fixed", "resolved", "solved") or w in ("works", "working") and r.word(i + 1) == "now" \
        or w == "good" and r.word(i - 1) == "all" or w in ("got", "found") and r.word(i + 1) == "it"





_SCAM_THINGS = frozenset({"text", "texts", "call", "calls", "email", "emails", "link", "links", "message", "messages",
                          "warning", "warnings", "alert", "alerts", "site", "number", "caller", "sms", "artist"})


def _a_scam_attempt(r: Reading, i: int) -> bool:
    """A scam at `i` is a fraudster's attempt the customer tells of, not the company condemned: "a scam text",
    "hung up on the scammer", "the scam warning made me check"; not "this is a scam", "what a scam"."""
    w = r.words[i]
    return w in ("scammer", "scammers") or w in ("scam", "scams") and r.word(i + 1) in _SCAM_THINGS


def _mood(r: Reading) -> dict[Signal, str]:
    """Hostility (several condemnations, or one in a very negative message), anger (a condemnation, distress,
    shouting or "!!" in a negative message), or frustration (expletives, mild words, angry emoji, negative
    sentiment)."""
    text, words = r.text, r.words
    condemned: list[int] = []
    seen: set[str] = set()
    distress = mild = -1
    if r.mask & (CONDEMN | DISTRESS | MILD):
        for i, m, _ in r.hits:
            w = words[i]
            if m & CONDEMN and w not in seen and not r.negated(i) and not (w == "steal" and r.word(i - 1) == "a") \
                    and not _a_scam_attempt(r, i):
                condemned.append(i)
                seen.add(w)
            elif m & DISTRESS and distress < 0 and not r.negated(i):
                distress = i
            elif m & MILD and mild < 0 and not r.negated(i):
                if w in ("sick", "tired") and r.word(i + 1) != "of" or w == "fed" and r.word(i + 1) != "up" or \
                        w in ("really", "seriously") and r.word(i + 1) not in ("?", "!", "") or \
                        w in ("bad", "poor", "sad") and text.compound > -0.3 or w == "mad" and text.compound > 0:
                    continue
                mild = i
    for i in ([j for j, m, _ in r.hits if m & T_OTHER] if r.mask & T_OTHER else []) + r.hashtags:
        w = words[i]
        if w == "shame" and r.word(i + 1) == "on" or w[0] == "#" and _condemning_hashtag(w):
            if w not in seen:
                condemned.append(i)
                seen.add(w)
    compound = text.compound
    if len(condemned) >= 2 or condemned and compound <= -0.75:
        return {"hostility": ", ".join(words[i] for i in condemned[:3])}
    negative = compound <= -0.3 and (text.shouting or text.exclaims)
    if condemned or distress >= 0 or negative:
        quote = (words[condemned[0]] if condemned else text.quote(distress) if distress >= 0
                 else " ".join(text.shouted[:3]) or ", ".join(text.negative_words) or text.original[:60])
        return {"anger": quote}
    # VADER alone, however negative ("broken", "failed"), says frustration, never more
    if mild >= 0 or compound <= -0.4 or text.exclaims and compound <= 0 and compound < 0:
        return {"frustration": text.quote(mild) if mild >= 0 else ", ".join(text.negative_words)
                or text.original[:60]}
    return {}


_HASHTAG_CONDEMN = tuple(sorted((w for w in L.CONDEMN if len(w) >= 4 and w.isalpha()), key=len, reverse=True))


@lru_cache(maxsize=1024)
def _condemning_hashtag(tag: str) -> bool:
    """A hashtag that condemns: one word of the list (#theft), or starting or ending with one (#lyingdriver,
    #xsucks, #fail)."""
    body = tag[1:]
    return body in L.CONDEMN or body.endswith(("fail", "shame", "disgrace")) or body.startswith(
        _HASHTAG_CONDEMN) or body.endswith(_HASHTAG_CONDEMN)
