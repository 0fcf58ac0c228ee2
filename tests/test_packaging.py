"""The built wheel is one package, `ticket_enricher`, and installs into a fresh virtualenv beside the OpenAI Agents
SDK (whose import name is `agents`), both working."""

from __future__ import annotations

import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def build_wheel(out: Path) -> Path:
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(out), str(ROOT)],
                   check=True, capture_output=True, text=True, timeout=300)
    (wheel,) = out.glob("ticket_enricher-*.whl")
    return wheel


def test_every_package_folder_is_listed_for_the_wheel() -> None:
    """A subpackage missing from pyproject's list would be missing from the wheel (the editable install hides it)."""
    tool = PROJECT["tool"]["setuptools"]
    listed = set(tool["packages"])
    for name, folder in tool["package-dir"].items():
        for init in (ROOT / folder).rglob("__init__.py"):
            parts = init.parent.relative_to(ROOT / folder).parts
            assert ".".join((name, *parts)) in listed, f"{init.parent} is not in [tool.setuptools] packages"


@pytest.mark.timeout(600)
def test_the_wheel_installs_as_one_package_beside_openai_agents(tmp_path: Path) -> None:
    wheel = build_wheel(tmp_path / "dist")
    names = {n.split("/")[0] for n in zipfile.ZipFile(wheel).namelist()}
    assert {n for n in names if not n.endswith(".dist-info")} == {"ticket_enricher"}, sorted(names)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    installed = subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                                str(wheel), "openai-agents"], capture_output=True, text=True, timeout=540)
    assert installed.returncode == 0, installed.stderr[-3000:]
    both = subprocess.run([str(python), "-c", (
        "import agents, ticket_enricher\n"
        "from agents import Agent, function_tool\n"  # the OpenAI Agents SDK, not our agents/ folder
        "from ticket_enricher.agents.enrichment import Enrichment\n"
        "from ticket_enricher.config.settings import load_settings\n"
        "assert load_settings().tags, 'the packaged defaults.toml'\n"
        "from importlib.resources import files\n"
        "assert files('ticket_enricher.localkafka').joinpath('pom.xml').is_file()\n"
        "from ticket_enricher.testing.contract import SPEC\n"
        "assert SPEC.is_file(), SPEC\n"
        "print(agents.__file__)\n")], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert both.returncode == 0, both.stderr[-3000:]
    assert "site-packages/agents/__init__.py" in both.stdout
    cli = subprocess.run([str(venv / "bin" / "ticket-enricher"), "--help"], capture_output=True, text=True,
                         timeout=120, cwd=tmp_path)
    assert cli.returncode == 0 and "Usage" in cli.stdout, cli.stderr[-2000:]
