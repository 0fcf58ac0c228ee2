"""`make demo`'s command runs the whole job on its own broker and ends with the ground-truth table."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

CLI = str(Path(sys.executable).with_name("ticket-enricher"))


@pytest.mark.kafka
@pytest.mark.timeout(240)
def test_demo_runs_end_to_end_and_matches_ground_truth(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "MEM0_"))} | {"COLUMNS": "160"}
    result = subprocess.run(
        [CLI, "demo", "--accounts", "8", "--workdir", str(tmp_path / "demo")],
        capture_output=True, text=True, timeout=200, env=env,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "tags match the ground truth for 8/8 accounts" in out
    assert "dead-lettered (invalid_json, schema)" in out
    assert "churn_risk" in out
    assert not list((tmp_path / "demo" / "broker").glob("broker.json")), "the demo must stop its broker"
