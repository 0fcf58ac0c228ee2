"""`run` against a broker nobody answers on stops with one clear error line and a non-zero exit, leaving no client
unclosed and no lag warning behind."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

CLI = str(Path(sys.executable).with_name("ticket-enricher"))


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # nothing listens here once the socket is closed


def run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "MEM0_", "TICKET_ENRICHER_"))}
    env["PYTHONWARNINGS"] = "always::ResourceWarning"  # an unclosed socket or transport would print
    return subprocess.run([CLI, "run", "-b", f"127.0.0.1:{closed_port()}", "-m", str(tmp_path / "memory.db"),
                           *args], env=env, capture_output=True, text=True, timeout=90)


def assert_clean(stderr: str) -> None:
    assert "Unclosed" not in stderr and "ResourceWarning" not in stderr, stderr
    assert "Traceback" not in stderr, stderr
    assert "could not read consumer lag" not in stderr, stderr


def test_one_member_says_it_cannot_reach_the_broker_and_closes_every_client(tmp_path: Path) -> None:
    result = run(tmp_path, "--http-port", str(closed_port()))  # endpoints and the lag monitor on
    assert result.returncode != 0
    assert_clean(result.stderr)
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "Unable to bootstrap" in errors[0], result.stderr


def test_members_that_cannot_start_end_the_supervisor_with_an_error(tmp_path: Path) -> None:
    result = run(tmp_path, "--processes", "2", "--http-port", "0")
    assert result.returncode != 0, result.stderr
    assert_clean(result.stderr)
    # the first member that fails has the supervisor stop the other, which may not get as far as saying why
    assert "cannot start: KafkaConnectionError" in result.stderr, result.stderr
