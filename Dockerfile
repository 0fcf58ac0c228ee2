# The worker image: `docker compose up --scale worker=3` runs three members of one consumer group.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY agents agents
COPY cli cli
COPY config config
COPY consumers consumers
COPY core core
COPY localkafka localkafka
COPY localmodel localmodel
COPY localpostgres localpostgres
COPY memory memory
COPY samples samples
COPY testing testing
COPY ticket_enricher ticket_enricher
RUN pip install . \
    && useradd --system --uid 10001 --home-dir /data --create-home enricher
USER 10001
VOLUME ["/data"]
ENV TICKET_ENRICHER_MEMORY__PATH=/data/memory.db
EXPOSE 9464
ENTRYPOINT ["ticket-enricher"]
CMD ["run"]
