"""Reference planners that `ticket-enricher eval` scores beside the real one; never used by the worker.

- `rules-v1`: the offline rules model as it was before it was rebuilt for real customer language (version 1:
  plain English patterns for B2B tickets, churn only after two complaints with an escalation). It runs through
  the same flow as the current rules model, so the comparison is like for like.
- `keywords`: a ten-word list per tag, matched anywhere in an account's tickets; the floor any planner should
  beat. No agent and no store: it only reads the text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from ticket_enricher.agents.rules.judgment import Note, TagDecision, assess_signals
from ticket_enricher.agents.rules.model import RulesModel
from ticket_enricher.config.settings import TagSettings
from ticket_enricher.core.events import TicketEvent

_V1_SEVERE = frozenset({"outage", "data_loss", "billing_error", "security"})
_V1_ESCALATION = frozenset({"escalation_cancel", "escalation_refund", "escalation_switch", "escalation_legal",
                            "repeat_contact"})
_V1_PATTERNS: dict[str, re.Pattern[str]] = {
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
# version 1's tag rules (config/defaults.toml at the time), kept here so that the baseline stays what it was
_V1_TAGS: dict[str, TagSettings] = {
    "escalation": TagSettings(description="v1 escalation", rule="signals", signals=sorted(_V1_ESCALATION),
                              within_days=30),
    "billing_dispute": TagSettings(description="v1 billing dispute", rule="signals", signals=["billing_error"],
                                   within_days=45),
    "outage_affected": TagSettings(description="v1 outage affected", rule="signals",
                                   signals=["outage", "data_loss"], within_days=30),
    "security_concern": TagSettings(description="v1 security concern", rule="signals", signals=["security"],
                                    within_days=60),
}


class RulesV1Model(RulesModel):
    """The rules model of version 1, for comparison only (`ticket-enricher eval --baseline rules-v1`)."""

    name = "rules-v1"

    def query(self, event: TicketEvent) -> str:
        return (f"{event.ticket.subject} {event.ticket.body[:300]}")[:500] or "ticket"  # v1 ranked its notes

    def read(self, text: str) -> dict[str, str]:
        """v1 read subject and body as they came (no normalisation), with case-insensitive patterns."""
        found = {s: m.group(0) for s, p in _V1_PATTERNS.items() if (m := p.search(text))}
        if found.keys() & (_V1_SEVERE | _V1_ESCALATION):
            found.pop("satisfied", None)
        return found

    def is_complaint(self, note: Note) -> bool:
        urgent = note.priority in {"high", "urgent"} and note.event_type != "ticket.closed"
        return bool(note.signals & (_V1_SEVERE | _V1_ESCALATION)) or urgent

    def judge(self, name: str, rule: TagSettings, notes: list[Note], now: datetime, tagged: bool) -> TagDecision:
        if rule.rule == "churn":
            return self._churn_v1(notes, now, tagged)
        return assess_signals(notes, now, _V1_TAGS.get(name, rule), tagged)

    def _churn_v1(self, notes: list[Note], now: datetime, tagged: bool) -> TagDecision:
        window = sorted((n for n in notes if now - timedelta(days=self.window_days) <= n.occurred_at <= now),
                        key=lambda n: (n.occurred_at, n.event_id))
        recent_from = now - timedelta(days=30)
        complaints = [n for n in window if self.is_complaint(n)]
        escalated = [n for n in complaints if n.signals & _V1_ESCALATION and n.occurred_at >= recent_from]
        severe = [n for n in complaints if n.signals & _V1_SEVERE]
        recent = [n for n in complaints if n.occurred_at >= recent_from]
        if (len(complaints) >= 2 and escalated) or (len(complaints) >= 3 and len(severe) >= 2 and recent):
            return TagDecision(True, False, f"v1: {len(complaints)} complaints in {self.window_days}d",
                               [n.memory_id for n in complaints][-10:])
        satisfied = [n for n in window[-2:] if n.event_type == "ticket.closed" and "satisfied" in n.signals
                     and not self.is_complaint(n)]
        if tagged and len(satisfied) == 2:
            return TagDecision(False, True, "v1: two tickets closed satisfied", [n.memory_id for n in satisfied])
        return TagDecision(False, False, "", [])


KEYWORDS: dict[str, tuple[str, ...]] = {
    "churn_risk": ("cancel", "switch", "worst", "refund", "terrible", "awful", "never", "unacceptable",
                   "ridiculous", "leave"),
    "billing_dispute": ("refund", "charge", "charged", "overcharged", "fee", "fees", "bill", "billing", "invoice",
                        "money back"),
    "outage_affected": ("down", "outage", "not working", "offline", "no signal", "no service", "unavailable",
                        "crashed", "can't log in", "cannot log in"),
}


@dataclass(frozen=True)
class KeywordHit:
    event_id: str
    word: str


def keyword_tags(events: list[TicketEvent]) -> dict[str, dict[str, KeywordHit]]:
    """Each account's tags under the keyword baseline: a tag when any of its tickets has one of the words."""
    patterns = {tag: re.compile(r"\b(" + "|".join(re.escape(w) for w in words) + r")\b", re.I)
                for tag, words in KEYWORDS.items()}
    out: dict[str, dict[str, KeywordHit]] = {}
    for event in events:
        text = f"{event.ticket.subject}\n{event.ticket.body}".replace("\u2019", "'")
        for tag, pattern in patterns.items():
            if (match := pattern.search(text)) and tag not in out.setdefault(event.account_id, {}):
                out[event.account_id][tag] = KeywordHit(event.event_id, match.group(0))
    return out
