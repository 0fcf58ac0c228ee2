"""The demo's result table reads well in an 80-column terminal: tag names whole, the evidence legible."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from rich.console import Console

from ticket_enricher.agents.accounts import AccountReport
from ticket_enricher.agents.notes import TagRecord
from ticket_enricher.cli.demo import result_table

LEAVE = 'said they would leave: escalation_cancel "we will cancel our subscription and move to a competitor"'


def report(account: str, **reasons: str) -> AccountReport:
    tags = {name: TagRecord(reason=reason, evidence_memory_ids=["m-1"], event_id="e-1", set_at=datetime.now(UTC))
            for name, reason in reasons.items()}
    return AccountReport(account_id=account, tags=tags, evaluated_through=None, tickets=1, events=2, notes=[])


REPORTS = [
    report("acme-0001", churn_risk=LEAVE, outage_affected="1 event(s) with outage in 14d", billing_dispute="x"),
    report("globex-0002"),
    report("initech-0003", billing_dispute='2 event(s) with billing_error in 30d: "charged twice"'),
]
TRUTH = {"acme-0001": frozenset({"churn_risk"}), "globex-0002": frozenset(), "initech-0003": frozenset({"churn_risk"})}


@pytest.mark.parametrize("width", [80, 100, 160])
def test_the_table_fits_the_terminal_with_whole_tag_names_and_readable_evidence(width: int) -> None:
    console = Console(width=width, record=True, force_terminal=False)
    table, matches = result_table(REPORTS, TRUTH, width)
    console.print(table)
    lines = console.export_text().splitlines()
    assert max(len(line) for line in lines) <= width
    cells = [part.strip() for line in lines for part in line.split("│")]
    for tag in ("churn_risk", "outage_affected", "billing_dispute"):
        assert tag in cells, f"{tag} split across lines"
    evidence = " ".join(line.split("│")[-2].strip() for line in lines if line.startswith("│"))
    assert "said they would leave: escalation_cancel" in evidence, "the evidence is cut to nothing"
    assert matches == 2, "initech-0003 is tagged billing_dispute but the truth says churn_risk"
    assert "expected:" in cells
