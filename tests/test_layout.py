"""The layout rules a reader relies on: modules small enough to read (400 lines, 300 in the Kafka layer), and
every exception the project defines in the one error tree (`core/errors.py`)."""

from __future__ import annotations

import ast
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def python_files() -> list[Path]:
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "*.py"], cwd=ROOT,
                            capture_output=True, text=True, check=True).stdout.split()
    return [ROOT / name for name in listed if (ROOT / name).is_file()]


def test_no_module_is_over_400_lines_and_none_in_the_kafka_layer_over_300() -> None:
    too_long = []
    for path in python_files():
        lines = len(path.read_text(encoding="utf-8").splitlines())
        limit = 300 if path.relative_to(ROOT).parts[0] == "consumers" else 400
        if lines > limit:
            too_long.append(f"{path.relative_to(ROOT)}: {lines} > {limit}")
    assert not too_long, too_long


def test_every_exception_class_lives_in_the_error_tree() -> None:
    outside = []
    for path in python_files():
        relative = path.relative_to(ROOT)
        if relative.parts[0] == "tests" or relative == Path("core/errors.py"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and any(_exceptional(base) for base in node.bases):
                outside.append(f"{relative}:{node.lineno} {node.name}")
    assert not outside, outside


def _exceptional(base: ast.expr) -> bool:
    name = base.id if isinstance(base, ast.Name) else base.attr if isinstance(base, ast.Attribute) else ""
    return name.endswith(("Error", "Exception"))
