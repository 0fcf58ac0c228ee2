"""SQL for the PostgreSQL store: the versioned schema, and the filter tree compiled to a parameterised WHERE.

Migrations run in one transaction under an advisory lock (see `memory.postgres_pool.migrate`), so members that
start at once apply each version exactly once, and a failed migration leaves the previous version intact.
Only ever append to MIGRATIONS; a database newer than this code is refused.
"""

from __future__ import annotations

from ticket_enricher.memory.filters import ENTITY_FIELDS, TIME_FIELDS, And, Cond, Node, Not, Or

# An arbitrary constant: pg_advisory_xact_lock's key for "migrating the ticket-enricher schema".
MIGRATION_LOCK = 0x7E_5C_4E_3A
TEXT_SEARCH_CONFIG = "english"
VERSIONS_TABLE = """
CREATE TABLE IF NOT EXISTS ticket_enricher_schema (
    version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now()
)"""

MIGRATIONS: list[tuple[int, str]] = [
    (1, f"""
CREATE TABLE memories (
    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id text NOT NULL UNIQUE,
    user_id text, agent_id text, app_id text, run_id text,
    memory text NOT NULL,
    words integer NOT NULL,
    metadata jsonb NOT NULL DEFAULT '{{}}',
    categories text[] NOT NULL DEFAULT '{{}}',
    idempotency_key text,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    tsv tsvector GENERATED ALWAYS AS (to_tsvector('{TEXT_SEARCH_CONFIG}', memory)) STORED
);
-- the database, not the adapter, makes a second add with the same key and entity ids impossible
CREATE UNIQUE INDEX memories_idempotency ON memories (
    coalesce(user_id, ''), coalesce(agent_id, ''), coalesce(app_id, ''), coalesce(run_id, ''), idempotency_key
) WHERE idempotency_key IS NOT NULL;
CREATE INDEX memories_user ON memories (user_id, created_at);
CREATE INDEX memories_agent ON memories (agent_id, created_at);
CREATE INDEX memories_app ON memories (app_id, created_at);
CREATE INDEX memories_run ON memories (run_id, created_at);
CREATE INDEX memories_tsv ON memories USING gin (tsv);
CREATE INDEX memories_metadata ON memories USING gin (metadata jsonb_path_ops);
CREATE TABLE embeddings (
    seq bigint PRIMARY KEY REFERENCES memories (seq) ON DELETE CASCADE,
    model text NOT NULL,
    vector real[] NOT NULL
);
CREATE TABLE history (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    memory_id text NOT NULL,
    event text NOT NULL CHECK (event IN ('ADD', 'UPDATE', 'DELETE')),
    old_memory text, new_memory text, old_metadata jsonb, new_metadata jsonb,
    created_at timestamptz NOT NULL
);
CREATE INDEX history_memory ON history (memory_id, id);
CREATE TABLE events (
    id text PRIMARY KEY, event_type text NOT NULL, status text NOT NULL, results jsonb NOT NULL DEFAULT '[]',
    error text, created_at timestamptz NOT NULL
);
"""),
]
SCHEMA_VERSION = MIGRATIONS[-1][0]

COLUMNS = "m.seq, m.id, m.user_id, m.agent_id, m.app_id, m.run_id, m.memory, m.metadata, m.categories, " \
          "m.created_at, m.updated_at"
# A tsquery matching any of the terms in the text array $1: every term a quoted operand, so no ticket text is
# ever parsed as tsquery syntax.
ANY_TERM = (f"to_tsquery('{TEXT_SEARCH_CONFIG}', array_to_string(ARRAY(SELECT quote_literal(t) "
            "FROM unnest({param}::text[]) AS t), ' | '))")
# Corpus statistics for BM25. Exact counts on a small table; on a large one, counting a common term means
# reading its whole posting list (a second at a million memories), so the table's size is the planner's
# estimate, the average length a 1 % sample, and a term's document frequency the lexeme frequency ANALYZE keeps
# for the most common lexemes of the tsvector column (exactly the costly ones); rarer terms are counted.
CORPUS_ESTIMATE = "SELECT reltuples::bigint FROM pg_class WHERE oid = 'memories'::regclass"
CORPUS_EXACT = "SELECT count(*), coalesce(sum(words), 0)::bigint FROM memories"
CORPUS_SAMPLED = "SELECT avg(words)::float8 FROM memories TABLESAMPLE SYSTEM (1)"
TERM_FREQUENCIES = f"""
SELECT t, (SELECT s.freqs[array_position(s.elems, l.lexeme)]
           FROM (SELECT most_common_elems::text::text[] AS elems, most_common_elem_freqs AS freqs FROM pg_stats
                 WHERE schemaname = current_schema() AND tablename = 'memories' AND attname = 'tsv') AS s) AS freq
FROM unnest($1::text[]) AS t
LEFT JOIN LATERAL (SELECT lexeme FROM unnest(to_tsvector('{TEXT_SEARCH_CONFIG}', t)) LIMIT 1) AS l ON true"""
DOCUMENT_FREQUENCIES = (f"SELECT t, (SELECT count(*) FROM memories WHERE tsv @@ "
                        f"to_tsquery('{TEXT_SEARCH_CONFIG}', quote_literal(t))) FROM unnest($1::text[]) AS t")
# The add: one statement, so the memory, its history row and its event commit together or not at all; a second
# add with the same entity ids and key (another member, a redelivery) inserts nothing and returns no row.
ENTITY_KEY = "coalesce(user_id, ''), coalesce(agent_id, ''), coalesce(app_id, ''), coalesce(run_id, '')"
ADD = """
WITH added AS (
    INSERT INTO memories (id, user_id, agent_id, app_id, run_id, memory, words, metadata, categories,
                          idempotency_key, created_at, updated_at)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)
    -- no arbiter: a keyed memory's id is planned from its scope and key, so a racing member collides on the
    -- id as well as on the key, and either one means "already stored"
    ON CONFLICT DO NOTHING
    RETURNING seq, id, memory, metadata
), logged AS (
    INSERT INTO history (memory_id, event, new_memory, new_metadata, created_at)
    SELECT id, 'ADD', memory, metadata, $12 FROM added
), announced AS (
    INSERT INTO events (id, event_type, status, results, created_at)
    SELECT $13, 'ADD', 'SUCCEEDED', jsonb_build_array(jsonb_build_object('id', id, 'event', 'ADD')), $12 FROM added
)
SELECT seq FROM added"""
# The update: one statement. The row is locked first (a concurrent update waits and is then re-read), the
# metadata merged into the newest version (jsonb ||: top-level keys, as dict merging), and the history row
# records exactly the version replaced.
UPDATE = f"""
WITH old AS (
    SELECT seq, memory, metadata FROM memories WHERE id = $1 FOR UPDATE
), updated AS (
    UPDATE memories m SET memory = coalesce($2, old.memory), words = coalesce($3, m.words),
                          metadata = old.metadata || $4::jsonb, updated_at = $5
    FROM old WHERE m.seq = old.seq
    RETURNING {COLUMNS}, old.memory AS old_memory, old.metadata AS old_metadata
), logged AS (
    INSERT INTO history (memory_id, event, old_memory, new_memory, old_metadata, new_metadata, created_at)
    SELECT id, 'UPDATE', old_memory, memory, old_metadata, metadata, $5 FROM updated
)
SELECT * FROM updated"""
FIND = f"SELECT id FROM memories WHERE ({ENTITY_KEY}) = ($1, $2, $3, $4) AND idempotency_key = $5"
SCRUB = ("UPDATE history SET old_memory = NULL, new_memory = NULL, old_metadata = NULL, new_metadata = NULL "
         "WHERE memory_id = ANY($1::text[])")
DELETED = "INSERT INTO history (memory_id, event, created_at) SELECT unnest($1::text[]), 'DELETE', $2"


class Params:
    """Numbered placeholders ($1, $2, …) for the values of one statement, in order. A jsonb value is a Python
    value: the pool's codec encodes it (`memory.postgres_pool`)."""

    def __init__(self, *first: object) -> None:
        self.values: list[object] = list(first)

    def add(self, value: object) -> str:
        self.values.append(value)
        return f"${len(self.values)}"


def compile_filter(node: Node, params: Params) -> str:
    if isinstance(node, (And, Or)):
        joiner = " AND " if isinstance(node, And) else " OR "
        return "(" + joiner.join(compile_filter(n, params) for n in node.items) + ")"
    if isinstance(node, Not):
        return f"(NOT {compile_filter(And(node.items), params)})"
    return _condition(node, params)


def _condition(c: Cond, params: Params) -> str:
    if c.field in ENTITY_FIELDS:
        col = f"m.{c.field}"
        if c.op == "any":
            return f"{col} IS NOT NULL"
        if c.op == "eq":
            return f"{col} = {params.add(c.value)}"
        if c.op == "ne":
            return f"({col} IS NULL OR {col} <> {params.add(c.value)})"
        return f"{col} = ANY({params.add(list(c.operands()))}::text[])"
    if c.field in TIME_FIELDS:
        sign = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<="}[c.op]
        return f"m.{c.field} {sign} {params.add(c.value)}"
    if c.field == "categories":
        if c.op == "in":
            return f"m.categories && {params.add(list(c.operands()))}::text[]"
        return f"EXISTS (SELECT 1 FROM unnest(m.categories) AS c WHERE strpos(c, {params.add(c.value)}) > 0)"
    if c.op == "eq":  # containment, so that the GIN index on metadata serves it
        return f"m.metadata @> {params.add({c.key: c.value})}::jsonb"
    key = params.add(c.key)
    if c.op == "ne":
        value = params.add(c.value)
        return f"(coalesce(m.metadata -> {key}, 'null') = 'null' OR m.metadata -> {key} <> {value}::jsonb)"
    text = params.add(c.value)
    return (f"(CASE jsonb_typeof(m.metadata -> {key}) WHEN 'array' THEN (m.metadata -> {key}) @> to_jsonb("
            f"{text}::text) ELSE strpos(m.metadata ->> {key}, {text}) > 0 END)")
