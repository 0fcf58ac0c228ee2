"""Deterministic reading of ticket text: which churn signals it carries, and the words that showed each.

Used by the offline rules model. Patterns are deliberately plain so that an operator can read why a tag was set.
"""

from __future__ import annotations

import re
from typing import Literal

Signal = Literal[
    "outage", "data_loss", "billing_error", "security",
    "escalation_cancel", "escalation_refund", "escalation_switch", "escalation_legal", "repeat_contact",
    "satisfied",
]

SEVERE: frozenset[str] = frozenset({"outage", "data_loss", "billing_error", "security"})
ESCALATION: frozenset[str] = frozenset(
    {"escalation_cancel", "escalation_refund", "escalation_switch", "escalation_legal", "repeat_contact"}
)
NEGATIVE: frozenset[str] = SEVERE | ESCALATION

_PATTERNS: dict[Signal, re.Pattern[str]] = {
    "outage": re.compile(
        r"\b(outage|is down|went down|was down|been down|unavailable|not loading|won'?t load|5\d\d errors?"
        r"|service disruption|cannot access|can'?t access|can'?t log ?in|cannot log ?in|offline for)\b", re.I),
    "data_loss": re.compile(
        r"\b(data loss|lost (all |our |the )?(data|records|files|history)|(data|records|files) (were |was |are )?"
        r"(deleted|wiped|gone|missing)|disappeared)\b", re.I),
    "billing_error": re.compile(
        r"\b(charged twice|double[- ]charged|overcharged|wrong (amount|invoice)|incorrect (invoice|charge|bill)"
        r"|billing error|unauthori[sz]ed charge|charged (us )?(again|after cancell?ing))\b", re.I),
    "security": re.compile(
        r"\b(breach|compromised|unauthori[sz]ed (access|login)|phishing|leaked|security (issue|incident|hole)"
        r"|suspicious login)\b", re.I),
    "escalation_cancel": re.compile(r"\b(cancel (our|my|the) (subscription|account|contract|plan)"
                                    r"|cancell?ing (our|my|the)|terminate (our|the) contract)\b", re.I),
    "escalation_refund": re.compile(r"\b(refund|chargeback|money back)\b", re.I),
    "escalation_switch": re.compile(r"\b(switch(ing)? (to another|provider|vendor|to a competitor)"
                                    r"|other (vendors|providers|options)|competitor|moving to \w+ instead)\b", re.I),
    "escalation_legal": re.compile(r"\b(lawyer|attorney|legal action|sue|lawsuit|small claims)\b", re.I),
    "repeat_contact": re.compile(r"\b(third time|3rd time|fourth time|again and again|still not (fixed|resolved)"
                                 r"|keeps happening|how many times|for the (second|third) time)\b", re.I),
    "satisfied": re.compile(r"\b(thanks?( you)?|works now|working now|all good|problem solved|great support"
                            r"|appreciate|resolved)\b", re.I),
}


def detect(text: str) -> dict[Signal, str]:
    """Each signal found in `text`, with the first phrase that showed it."""
    found: dict[Signal, str] = {}
    for signal, pattern in _PATTERNS.items():
        match = pattern.search(text)
        if match:
            found[signal] = match.group(0)
    if found.keys() & NEGATIVE:
        found.pop("satisfied", None)
    return found
