"""Create every topic the configuration names; existing topics are left as they are."""

from __future__ import annotations

import asyncio

from aiokafka.admin import NewTopic

from ticket_enricher.config.settings import Settings
from ticket_enricher.consumers.engine.clients import KafkaClients, opened
from ticket_enricher.core.errors import MissingTopics


async def create_topics(settings: Settings) -> tuple[list[str], list[str]]:
    """Returns (created, already existing)."""
    async with opened(KafkaClients.from_settings(settings).admin("admin")) as admin:
        existing = set(await admin.list_topics())
        wanted = settings.topic_names()
        missing = [t for t in wanted if t not in existing]
        if missing:
            await admin.create_topics([
                NewTopic(name=t, num_partitions=settings.topics.partitions,
                         replication_factor=settings.topics.replication_factor)
                for t in missing
            ])
            # the broker answers before every listener's metadata has the new topics: wait until they show
            for _ in range(100):
                if set(missing) <= set(await admin.list_topics()):
                    break
                await asyncio.sleep(0.1)
        return missing, [t for t in wanted if t in existing]


async def check_topics(settings: Settings) -> None:
    async with opened(KafkaClients.from_settings(settings).admin("admin")) as admin:
        missing = sorted(set(settings.topic_names()) - set(await admin.list_topics()))
    if missing:
        raise MissingTopics(f"missing topics: {', '.join(missing)}; create them with `ticket-enricher topics "
                            "create` (same settings)")
