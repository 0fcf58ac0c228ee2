"""Settings come from defaults.toml, then a user file, then TICKET_ENRICHER_* env vars, then arguments."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from ticket_enricher.config.settings import load_settings


def test_defaults_come_from_the_default_file() -> None:
    s = load_settings()
    assert s.topics.tickets == "support.tickets"
    assert s.topics.enriched == "support.accounts.enriched"
    assert s.topics.dlq == "support.tickets.dlq"
    assert s.kafka.group_id == "ticket-enricher"


def test_user_file_overrides_only_what_it_names(tmp_path: Path) -> None:
    f = tmp_path / "prod.toml"
    f.write_text('[kafka]\nbootstrap_servers = "kafka-1:9092"\n')
    s = load_settings(f)
    assert s.kafka.bootstrap_servers == "kafka-1:9092"
    assert s.kafka.group_id == "ticket-enricher"


def test_env_overrides_the_user_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    f = tmp_path / "prod.toml"
    f.write_text('[kafka]\nbootstrap_servers = "kafka-1:9092"\n')
    monkeypatch.setenv("TICKET_ENRICHER_KAFKA__BOOTSTRAP_SERVERS", "kafka-2:9092")
    monkeypatch.setenv("TICKET_ENRICHER_TOPICS__PARTITIONS", "12")
    s = load_settings(f)
    assert s.kafka.bootstrap_servers == "kafka-2:9092"
    assert s.topics.partitions == 12


def test_arguments_override_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TICKET_ENRICHER_KAFKA__BOOTSTRAP_SERVERS", "kafka-2:9092")
    assert load_settings(kafka={"bootstrap_servers": "x:1"}).kafka.bootstrap_servers == "x:1"


@pytest.mark.parametrize(
    "overrides",
    [
        {"topics": {"tickets": "bad topic name"}},
        {"topics": {"partitions": 0}},
        {"kafka": {"auto_offset_reset": "middle"}},
        {"nonsense": {"x": 1}},
    ],
)
def test_invalid_settings_fail_at_start(overrides: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        load_settings(**overrides)


def test_missing_config_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_settings(tmp_path / "nope.toml")


def test_tag_examples_are_short_and_reach_the_guide() -> None:
    s = load_settings()
    guide = s.tags["billing_dispute"].guide("billing_dispute")
    assert guide.startswith("- billing_dispute: ") and all(f'"{e}"' in guide
                                                           for e in s.tags["billing_dispute"].examples_positive)
    with pytest.raises(ValidationError, match="examples must be 1 to 200 characters"):
        load_settings(tags={"churn_risk": {"description": "a tag for the test", "rule": "churn",
                                           "examples_positive": ["x" * 201]}})


def test_memory_flag_selects_postgres_by_its_dsn(monkeypatch: pytest.MonkeyPatch) -> None:
    from ticket_enricher.cli.common import settings_from

    monkeypatch.setenv("PGPASSWORD", "from-the-env")
    s = settings_from(None, memory="postgresql://te@db.internal:5432/memory")
    assert s.memory.backend == "postgres"
    assert s.memory.dsn.get_secret_value() == "postgresql://te@db.internal:5432/memory"
    assert s.postgres_password is not None and s.postgres_password.get_secret_value() == "from-the-env"
    assert settings_from(None, memory="mem0").memory.backend == "mem0"
    assert settings_from(None, memory="some/file.db").memory.backend == "sqlite"


def test_postgres_without_a_dsn_is_refused() -> None:
    with pytest.raises(ValidationError, match="memory.dsn"):
        load_settings(memory={"backend": "postgres"})
