"""A real single-node Apache Kafka broker (KRaft) started from the official jars on Maven Central."""

from ticket_enricher.core.errors import BrokerError
from ticket_enricher.localkafka.broker import BrokerStatus, LocalBroker, ensure_jars

__all__ = ["BrokerError", "BrokerStatus", "LocalBroker", "ensure_jars"]
