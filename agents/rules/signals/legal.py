"""A legal threat: the customer says they will take the company to court or to a regulator, not a mention of
the law."""

from __future__ import annotations

from ticket_enricher.agents.rules.signals.reading import LAW, THREAT, Reading


def escalation_legal(r: Reading) -> int:
    """A legal threat, not a mention: "my lawyer", "I will sue", "see you in court", "report you to the FCC"."""
    if not r.mask & LAW:
        return -1
    words = r.words
    for i, m, _ in r.hits:
        if not m & LAW:
            continue
        w = words[i]
        if w == "legal" and r.word(i + 1) not in ("action", "team", "department", "advice", "counsel", "route",
                                                  "proceedings", "aid", "help", "steps", "options"):
            continue
        if w == "court" and r.word(i - 1) in ("food",):
            continue
        if r.negated(i, 4):
            continue
        if w in ("sue", "suing") or r.near(i, THREAT, 4, 0) >= 0:
            return i
    return -1
