"""The Kafka side: topics, the ticket subscriber, dead-lettering, and the worker's lifespan."""
