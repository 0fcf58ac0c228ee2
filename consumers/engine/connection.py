"""How every Kafka client here connects: bootstrap servers and security options, built in this one place.

aiokafka's consumer, producer and admin client take the same options: `security_protocol` (PLAINTEXT, SSL,
SASL_PLAINTEXT, SASL_SSL), `sasl_mechanism` with `sasl_plain_username` / `sasl_plain_password` (PLAIN and
SCRAM-SHA-256/512 alike), and an `ssl_context` (CA to trust, client certificate and key for mutual TLS).
The password comes from the environment (KAFKA_SASL_PASSWORD) through `Settings`, never from a file.
"""

from __future__ import annotations

from typing import Any

from aiokafka.helpers import create_ssl_context

from ticket_enricher.config.settings import Settings
from ticket_enricher.core.errors import KafkaSecurityError


def client_options(settings: Settings) -> dict[str, Any]:
    """Keyword arguments every aiokafka client takes; `engine.clients.KafkaClients` builds the clients with them."""
    kafka = settings.kafka
    options: dict[str, Any] = {"bootstrap_servers": kafka.bootstrap_servers,
                               "security_protocol": kafka.security_protocol}
    if kafka.security_protocol.startswith("SASL_"):
        if settings.kafka_sasl_password is None:
            raise KafkaSecurityError(f"kafka.security_protocol is {kafka.security_protocol} but KAFKA_SASL_PASSWORD "
                                     "is not set")
        options |= {"sasl_mechanism": kafka.sasl_mechanism, "sasl_plain_username": kafka.sasl_username,
                    "sasl_plain_password": settings.kafka_sasl_password.get_secret_value()}
    if kafka.security_protocol in ("SSL", "SASL_SSL"):
        try:
            options["ssl_context"] = create_ssl_context(
                cafile=kafka.ssl_cafile or None, certfile=kafka.ssl_certfile or None,
                keyfile=kafka.ssl_keyfile or None)
        except OSError as exc:
            raise KafkaSecurityError(f"cannot load the TLS files: {exc}") from exc
    return options


def describe(settings: Settings) -> str:
    """Where and how a command connects, for messages (no secrets)."""
    kafka = settings.kafka
    how: str = kafka.security_protocol
    if how.startswith("SASL_"):
        how += f" {kafka.sasl_mechanism} as {kafka.sasl_username!r}"
    return f"{kafka.bootstrap_servers} ({how})"
