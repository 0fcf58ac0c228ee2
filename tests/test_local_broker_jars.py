"""The broker's jars resolve from Maven Central through the pom.xml the package ships (a fresh directory, as on a
new machine; Maven's own cache makes it take seconds once `make test` has fetched them)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ticket_enricher.localkafka.broker import KAFKA_VERSION, ensure_jars


@pytest.mark.skipif(shutil.which("mvn") is None or shutil.which("java") is None, reason="needs Maven and Java")
@pytest.mark.timeout(300)
def test_the_jars_resolve_into_a_fresh_directory(tmp_path: Path) -> None:
    lib = ensure_jars(tmp_path / "lib", say=lambda message: None)
    assert (lib / ".complete").read_text().strip() == KAFKA_VERSION
    assert any(jar.name.startswith("kafka_") for jar in lib.glob("*.jar")), sorted(p.name for p in lib.iterdir())
    assert ensure_jars(lib, say=lambda message: None) == lib, "a second call returns at once"
