#!/usr/bin/env python3
"""Type-check the package, the tests and the benchmarks with mypy (`make lint` runs this).

mypy cannot follow setuptools' editable-install import hook, and the repository keeps `agents/`, `core/`, ...
at the top level while they install as `ticket_enricher.<folder>`. So this builds a staging tree,
`build/typecheck/`, with `ticket_enricher/<folder>` a symlink to each folder that
`[tool.setuptools.package-dir]` maps (read from pyproject.toml, so it never drifts), `tests` and `bench`
beside it, and runs mypy there with the `[tool.mypy]` config of pyproject.toml. The reported paths
(`ticket_enricher/agents/x.py`) are written back as the repository's (`agents/x.py`).

Usage: .ci/typecheck.py [extra mypy arguments]; the exit status is mypy's.
"""

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
STAGE = ROOT / "build" / "typecheck"
NAMESPACE = "ticket_enricher"
BESIDE = ("tests", "bench")  # checked too, as the top-level packages they are when pytest runs them


def folders(tool: dict[str, Any]) -> dict[str, str]:
    """`ticket_enricher.<folder>` -> its folder in the repository, as pyproject.toml maps them."""
    mapping: dict[str, str] = tool["setuptools"]["package-dir"]
    return {name: folder for name, folder in mapping.items() if name != NAMESPACE}


def refuse_strict_overrides(tool: dict[str, Any]) -> None:
    """`strict = true` in a `[[tool.mypy.overrides]]` section turns strict mode on for every module, silently."""
    for override in tool.get("mypy", {}).get("overrides", []):
        if "strict" in override:
            sys.exit(f"typecheck: `strict` in the mypy override for {override.get('module')} applies to every "
                     "module, not these: list the strict flags one by one (see [tool.mypy] in pyproject.toml)")


def link(target: Path, at: Path) -> None:
    at.symlink_to(os.path.relpath(target, at.parent), target_is_directory=target.is_dir())


def stage(tool: dict[str, Any]) -> dict[str, str]:
    """Build the staging tree afresh (mypy's cache beside it survives); return staged prefix -> repository prefix."""
    package = STAGE / NAMESPACE
    shutil.rmtree(package, ignore_errors=True)
    package.mkdir(parents=True)
    for entry in (ROOT / NAMESPACE).iterdir():  # the namespace's own __init__.py and py.typed
        if entry.name != "__pycache__":
            link(entry, package / entry.name)
    prefixes = {}
    for name, folder in folders(tool).items():
        parts = name.split(".")
        if len(parts) != 2 or parts[0] != NAMESPACE:
            sys.exit(f"typecheck: cannot stage {name!r} = {folder!r}: only {NAMESPACE}.<folder> mappings are known")
        link(ROOT / folder, package / parts[1])
        prefixes[f"{NAMESPACE}/{parts[1]}/"] = f"{folder}/"
    for folder in BESIDE:
        at = STAGE / folder
        if at.is_symlink() or at.exists():
            at.unlink()
        link(ROOT / folder, at)
    return prefixes


def unstage(line: str, prefixes: dict[str, str]) -> str:
    for staged, real in prefixes.items():
        if line.startswith(staged):
            return real + line[len(staged) :]
    return line


def main() -> int:
    with open(ROOT / "pyproject.toml", "rb") as f:
        tool = tomllib.load(f)["tool"]
    refuse_strict_overrides(tool)
    prefixes = stage(tool)
    command = [sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml"), NAMESPACE, *BESIDE]
    done = subprocess.run([*command, *sys.argv[1:]], cwd=STAGE, capture_output=True, text=True)
    for line in done.stdout.splitlines():
        print(unstage(line, prefixes))
    sys.stderr.write(done.stderr)
    return done.returncode


if __name__ == "__main__":
    sys.exit(main())
