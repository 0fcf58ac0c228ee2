"""ticket-enricher: a Kafka worker that enriches support-ticket events with long-term account memory and tags.

One import namespace, while the repository keeps one top-level folder per part (`agents/`, `consumers/`,
`config/`, ...): `pyproject.toml` maps each folder to `ticket_enricher.<folder>`, so an install never puts
`agents`, `core` or `config` on the top level where other packages (the OpenAI Agents SDK is `agents`) live.
"""
