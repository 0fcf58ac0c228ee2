"""Settings: `defaults.toml` < an optional user TOML file < `TICKET_ENRICHER_*` env vars < explicit arguments.

Built once at start-up and passed down; nothing below the CLI reads the environment.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, SecretStr, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from ticket_enricher.config.routes import Routes, build_routes, legal_topic

DEFAULTS_FILE = Path(__file__).with_name("defaults.toml")
ENV_PREFIX = "TICKET_ENRICHER_"


class KafkaSettings(BaseModel):
    bootstrap_servers: str
    group_id: str
    client_id: str
    auto_offset_reset: Literal["earliest", "latest"]
    session_timeout_ms: int = Field(ge=1000)
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
    sasl_mechanism: Literal["", "PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]
    sasl_username: str
    ssl_cafile: str
    ssl_certfile: str
    ssl_keyfile: str

    @model_validator(mode="after")
    def _sasl_complete(self) -> KafkaSettings:
        sasl = self.security_protocol.startswith("SASL_")
        if sasl and not (self.sasl_mechanism and self.sasl_username):
            raise ValueError(f"security_protocol {self.security_protocol} needs sasl_mechanism and sasl_username "
                             "(the password comes from KAFKA_SASL_PASSWORD)")
        if not sasl and self.sasl_mechanism:
            raise ValueError("sasl_mechanism is set but security_protocol is not SASL_PLAINTEXT or SASL_SSL")
        if bool(self.ssl_certfile) != bool(self.ssl_keyfile):
            raise ValueError("set both ssl_certfile and ssl_keyfile (a client certificate), or neither")
        return self


def _ascending(tiers: list[int]) -> list[int]:
    if any(t <= 0 for t in tiers) or tiers != sorted(set(tiers)):
        raise ValueError("tiers_seconds must be positive and strictly ascending")
    return tiers


class RetrySettings(BaseModel):
    tiers_seconds: list[int] = Field(min_length=1)
    max_attempts: int = Field(ge=1, le=100)
    backoff_base_seconds: float = Field(gt=0)
    backoff_max_seconds: float = Field(gt=0)
    max_wait_seconds: float = Field(gt=0)
    publish_retry_first_seconds: float = Field(gt=0)
    publish_retry_max_seconds: float = Field(gt=0)
    limiter: bool
    limiter_max_wait_seconds: float = Field(ge=0)
    sign_provenance: bool

    _tiers = field_validator("tiers_seconds")(_ascending)


class TopicSettings(BaseModel):
    tickets: str
    enriched: str
    dlq: str
    deletion_requests: str
    deletion_completed: str
    deletion_dlq: str  # empty: "<deletion_requests>.dlq"
    partitions: int = Field(ge=1)
    replication_factor: int = Field(ge=1)

    _legal = field_validator("tickets", "enriched", "dlq", "deletion_requests", "deletion_completed")(legal_topic)

    @field_validator("deletion_dlq")
    @classmethod
    def _legal_or_derived(cls, name: str) -> str:
        return legal_topic(name) if name else name


class WorkerSettings(BaseModel):
    max_message_bytes: int = Field(ge=1024)
    max_in_flight: int = Field(ge=1)
    max_buffered: int = Field(ge=1)
    drain_timeout_seconds: float = Field(gt=0)
    gc_threshold: int = Field(default=5_000, ge=0)

    @model_validator(mode="after")
    def _buffer_holds_in_flight(self) -> WorkerSettings:
        if self.max_buffered < self.max_in_flight:
            raise ValueError(f"worker.max_buffered ({self.max_buffered}) must be at least worker.max_in_flight "
                             f"({self.max_in_flight})")
        return self


class MemorySettings(BaseModel):
    backend: Literal["sqlite", "mem0", "postgres"]
    path: Path
    mem0_base_url: str = Field(pattern=r"^https?://")
    # A secret because it may hold a password; shown only through memory.dsn.redact().
    dsn: SecretStr
    pool_max_size: int = Field(ge=1, le=1000)
    statement_timeout_seconds: float = Field(gt=0)
    timeout_seconds: float = Field(gt=0)
    embeddings_base_url: str
    embeddings_model: str

    @model_validator(mode="after")
    def _embeddings_complete(self) -> MemorySettings:
        if bool(self.embeddings_base_url) != bool(self.embeddings_model):
            raise ValueError("set both embeddings_base_url and embeddings_model, or neither")
        return self

    @model_validator(mode="after")
    def _postgres_has_a_dsn(self) -> MemorySettings:
        dsn = self.dsn.get_secret_value()
        if self.backend == "postgres" and not dsn.startswith(("postgresql://", "postgres://")):
            raise ValueError("memory.backend is postgres but memory.dsn is not a postgresql://USER@HOST:PORT/DB "
                             "connection string")
        return self


class PrivacySettings(BaseModel):
    delete_wait_seconds: float = Field(gt=0)
    tiers_seconds: list[int] = Field(min_length=1)

    _tiers = field_validator("tiers_seconds")(_ascending)


class AclSettings(BaseModel):
    """The principals `ticket-enricher acls` grants least privilege to (see README, "Security model")."""

    worker: str = Field(pattern=r"^[A-Za-z]+:.+$")
    ticket_producers: list[str]
    privacy_requesters: list[str]
    operators: list[str]

    @field_validator("ticket_producers", "privacy_requesters", "operators")
    @classmethod
    def _principals(cls, names: list[str]) -> list[str]:
        bad = [n for n in names if not re.fullmatch(r"[A-Za-z]+:.+", n)]
        if bad:
            raise ValueError(f"principals look like User:name, not {', '.join(bad)}")
        return names


class OpsSettings(BaseModel):
    http_host: str
    http_port: int = Field(ge=0, le=65535)
    lag_interval_seconds: float = Field(gt=0)
    log_format: Literal["text", "json"]


class AgentSettings(BaseModel):
    max_turns: int = Field(ge=1)
    max_tool_calls: int = Field(ge=1)
    history_window_days: int = Field(ge=1)
    search_top_k: int = Field(ge=1, le=1000)


class TagSettings(BaseModel):
    """One tag of the vocabulary: what the model is told, and the criteria the rules model applies."""

    description: str = Field(min_length=10, max_length=800)
    rule: Literal["churn", "signals"]
    signals: list[str] = Field(default_factory=list)
    min_events: int = Field(default=1, ge=1)
    within_days: int = Field(default=30, ge=1)
    # short messages that warrant the tag and that do not: shown to a model beside the definition
    examples_positive: list[str] = Field(default_factory=list, max_length=8)
    examples_negative: list[str] = Field(default_factory=list, max_length=8)

    @field_validator("examples_positive", "examples_negative")
    @classmethod
    def _short_examples(cls, examples: list[str]) -> list[str]:
        long = [e for e in examples if not 1 <= len(e) <= 200]
        if long:
            raise ValueError(f"examples must be 1 to 200 characters: {long[0][:60]!r}")
        return examples

    def guide(self, name: str) -> str:
        """The definition with its examples, as a model reads it."""
        lines = [f"- {name}: {self.description}"]
        if self.examples_positive:
            lines.append("  set it for messages like: " + " | ".join(f'"{e}"' for e in self.examples_positive))
        if self.examples_negative:
            lines.append("  not for: " + " | ".join(f'"{e}"' for e in self.examples_negative))
        return "\n".join(lines)

    @model_validator(mode="after")
    def _signals_rule_names_signals(self) -> TagSettings:
        if self.rule == "signals" and not self.signals:
            raise ValueError("a tag with rule = \"signals\" needs a non-empty `signals` list")
        return self


class Price(BaseModel):
    """What a model's tokens cost, in US dollars per million tokens; cached prompt tokens at `input` when the
    provider gives no cached price."""

    model_config = ConfigDict(extra="forbid")

    input: float = Field(ge=0)
    output: float = Field(ge=0)
    cached_input: float | None = Field(default=None, ge=0)


class ModelSettings(BaseModel):
    """The LLM: empty `name` means the offline rules model. Key from OPENAI_API_KEY, base URL from `base_url`
    or OPENAI_BASE_URL (any OpenAI-compatible endpoint: OpenAI, Azure, vLLM, Ollama, llama.cpp, LiteLLM)."""

    name: str
    base_url: str
    timeout_seconds: float = Field(gt=0)
    temperature: float = Field(ge=0, le=2)
    max_output_tokens: int = Field(ge=1)
    output_tokens_param: Literal["auto", "max_tokens", "max_completion_tokens"]
    breaker_failures: int = Field(ge=1)
    breaker_probe_seconds: float = Field(gt=0)
    breaker_max_probe_seconds: float = Field(gt=0)
    turn_record_days: float = Field(ge=0)
    prices: dict[str, Price]
    mode: Literal["agent", "cascade"]  # with a name: the model judges every event, or only where the rules are unsure

    def tokens_param(self, base_url: str | None) -> str:
        """`max_completion_tokens` for OpenAI's own API (its newer models refuse `max_tokens`), `max_tokens` for
        every other server (llama.cpp, Ollama and older vLLM know only that one), unless set."""
        if self.output_tokens_param != "auto":
            return self.output_tokens_param
        return "max_completion_tokens" if not base_url or "api.openai.com" in base_url else "max_tokens"


class CascadeSettings(BaseModel):
    """`model.mode = "cascade"`: which events the rules hand to the model (`agents.planners.cascade`)."""

    threshold: float = Field(ge=0, le=1)  # escalate an event when a tag's rules confidence is below it
    sample: float = Field(ge=0, le=1)  # the share of the other events also sent, chosen by sha256(event_id)
    thresholds: dict[str, float]  # per tag, instead of `threshold` (a tag whose errors cost more asks sooner)
    calibration: str  # a table from `ticket-enricher calibrate` for the rules' confidences; empty: the shipped one


class BudgetSettings(BaseModel):
    """What model calls may spend, shared by every member of the group through the store they share
    (`core.budget`); 0 turns a limit off."""

    group_tokens_per_minute: int = Field(ge=0)
    group_tokens_per_day: int = Field(ge=0)
    account_tokens_per_day: int = Field(ge=0)
    group_usd_per_day: float = Field(ge=0)
    account_usd_per_day: float = Field(ge=0)
    replay_share: float = Field(gt=0, le=1)
    replay_tokens_per_minute: int = Field(ge=0)  # a replay's own rate (`replay --budget`); 0: replay_share
    warn_fraction: float = Field(gt=0, le=1)
    name: str  # the budget's name in the ledger; empty: kafka.group_id
    dsn: SecretStr  # with memory.backend = "mem0": a PostgreSQL for the ledger; empty: each member alone

    @property
    def enabled(self) -> bool:
        return any((self.group_tokens_per_minute, self.group_tokens_per_day, self.account_tokens_per_day,
                    self.group_usd_per_day, self.account_usd_per_day))


class Settings(BaseSettings):
    """Everything the worker and the CLI can be told; see `defaults.toml` for values and meaning."""

    model_config = SettingsConfigDict(
        protected_namespaces=(),
        env_prefix=ENV_PREFIX, env_nested_delimiter="__", extra="forbid", frozen=True
    )

    kafka: KafkaSettings
    topics: TopicSettings
    retry: RetrySettings
    worker: WorkerSettings
    memory: MemorySettings
    privacy: PrivacySettings
    ops: OpsSettings
    agent: AgentSettings
    model: ModelSettings
    cascade: CascadeSettings
    budget: BudgetSettings
    acls: AclSettings
    tags: dict[str, TagSettings]
    # Secrets: read from their usual environment variables only, never from files or logged.
    mem0_api_key: SecretStr | None = Field(default=None, validation_alias="MEM0_API_KEY")
    openai_api_key: SecretStr | None = Field(default=None, validation_alias="OPENAI_API_KEY")
    openai_base_url: str | None = Field(default=None, validation_alias="OPENAI_BASE_URL")
    kafka_sasl_password: SecretStr | None = Field(default=None, validation_alias="KAFKA_SASL_PASSWORD")
    provenance_key: SecretStr | None = Field(default=None, validation_alias="TICKET_ENRICHER_PROVENANCE_KEY")
    # libpq's variable: the PostgreSQL password when memory.dsn holds none.
    postgres_password: SecretStr | None = Field(default=None, validation_alias="PGPASSWORD")

    _routes: Routes = PrivateAttr()  # built once per settings object, by validation or `model_copy`

    def routes(self) -> Routes:
        """Which flow reads which topic, in which group, with which tiers and DLQ (`config.routes`): the one table
        built when these settings were validated."""
        return self._routes

    def topic_names(self) -> list[str]:
        """Every topic the worker reads or writes: inputs, outputs, dead-letter topics and every delay tier."""
        return self._routes.topic_names()

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Settings:
        """A copy with its own routes: pydantic copies private attributes as they are, and an update may change the
        topics, the group or the tiers they are built from."""
        copied = super().model_copy(update=update, deep=deep)
        copied._routes = _build_routes(copied)
        return copied

    @model_validator(mode="after")
    def _routes_and_secrets(self) -> Settings:
        self._routes = _build_routes(self)  # raises on two roles sharing a topic, an illegal derived name, ...
        if self.retry.sign_provenance and not (self.provenance_key and self.provenance_key.get_secret_value()):
            raise ValueError("retry.sign_provenance is on but TICKET_ENRICHER_PROVENANCE_KEY is not set")
        if self.model.mode == "cascade" and not self.model.name:
            raise ValueError('model.mode is "cascade" but model.name is empty: name the model the rules escalate '
                             'unsure events to (or set model.mode = "agent" for the rules alone)')
        return self

    @field_validator("tags")
    @classmethod
    def _tag_names(cls, tags: dict[str, TagSettings]) -> dict[str, TagSettings]:
        bad = [name for name in tags if not re.fullmatch(r"[a-z][a-z0-9_]{1,40}", name)]
        if bad:
            raise ValueError(f"tag names must be lower_snake_case: {', '.join(bad)}")
        if not tags:
            raise ValueError("the tag vocabulary is empty")
        return tags

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        user_file = _USER_FILE.get(settings_cls)
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if user_file is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=user_file))
        sources.append(TomlConfigSettingsSource(settings_cls, toml_file=DEFAULTS_FILE))
        return tuple(sources)


def _build_routes(settings: Settings) -> Routes:
    topics = settings.topics
    return build_routes(group=settings.kafka.group_id, tickets=topics.tickets, enriched=topics.enriched,
                        dlq=topics.dlq, deletion_requests=topics.deletion_requests,
                        deletion_completed=topics.deletion_completed, deletion_dlq=topics.deletion_dlq,
                        ticket_tiers=settings.retry.tiers_seconds, deletion_tiers=settings.privacy.tiers_seconds,
                        max_attempts=settings.retry.max_attempts, max_wait_seconds=settings.retry.max_wait_seconds)


_USER_FILE: dict[type[BaseSettings], Path] = {}


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Build the settings; `overrides` are nested dicts keyed like the TOML tables (pydantic validates them)."""
    if config_file is not None and not Path(config_file).is_file():
        raise FileNotFoundError(f"config file {config_file} does not exist")
    if config_file is None:
        _USER_FILE.pop(Settings, None)
    else:
        _USER_FILE[Settings] = Path(config_file)
    try:
        return Settings(**overrides)
    finally:
        _USER_FILE.pop(Settings, None)
