"""The account view the agent maintains: its tags with evidence, and its ticket notes (for the CLI and demo)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from ticket_enricher.agents.notes import NOTE_KIND, TagRecord, account_filter, read_account_tags
from ticket_enricher.memory.store import Memory, MemoryStore, list_all


class AccountReport(BaseModel):
    account_id: str
    tags: dict[str, TagRecord]
    evaluated_through: datetime | None
    tickets: int
    events: int
    notes: list[Memory]

    def evidence_line(self) -> str:
        """The headline: churn_risk's reason when set, else the first tag's."""
        if not self.tags:
            return ""
        name = "churn_risk" if "churn_risk" in self.tags else sorted(self.tags)[0]
        return f"{name}: {self.tags[name].reason}"


async def account_report(store: MemoryStore, account_id: str, *, page_size: int = 200) -> AccountReport:
    notes = await list_all(store, filters=account_filter(account_id, NOTE_KIND), page_size=page_size)
    _, tags = await read_account_tags(store, account_id)
    return AccountReport(
        account_id=account_id, tags=tags.tags, evaluated_through=tags.evaluated_through,
        tickets=len({n.metadata.get("ticket_id") for n in notes}), events=len(notes), notes=notes,
    )
