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
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "MEM0_"))} | {"COLUMNS": "80"}
    result = subprocess.run(
        [CLI, "demo", "--accounts", "8", "--workdir", str(tmp_path / "demo")],
        capture_output=True, text=True, timeout=200, env=env,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "churn_risk matches the ground truth for 8/8 accounts" in out
    assert "dead-lettered (invalid_json, schema)" in out
    assert "churn_risk" in out
    table = [line for line in out.splitlines() if line.startswith(("┃", "│", "┏", "└"))]
    assert table and max(len(line) for line in table) <= 80, "the result table is wider than the terminal"
    assert not list((tmp_path / "demo" / "broker").glob("broker.json")), "the demo must stop its broker"


@pytest.mark.kafka
@pytest.mark.timeout(120)
def test_demo_stops_its_broker_when_terminated_mid_stream(tmp_path: Path) -> None:
    import signal
    import time

    from ticket_enricher.localkafka import LocalBroker

    workdir = tmp_path / "demo"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "MEM0_"))}
    proc = subprocess.Popen([CLI, "demo", "--accounts", "400", "--workdir", str(workdir)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    broker = LocalBroker(workdir / "broker")
    deadline = time.monotonic() + 60
    while not broker.status().running and time.monotonic() < deadline:
        time.sleep(0.2)
    assert broker.status().running, "the demo should have started its broker"
    pid = broker.status().pid
    time.sleep(2)
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 130, out
    assert "interrupted" in out
    assert not broker.status().running
    assert pid is not None
    try:
        os.kill(pid, 0)
        alive = True
    except ProcessLookupError:
        alive = False
    assert not alive, "the broker process must be gone"
