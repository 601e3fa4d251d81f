-- Chorus schema v1: accounts, conversations, messages, queries and their per-agent responses.
-- Both api-server and workflow-worker run Flyway on start; PostgreSQL's advisory lock serializes them.

CREATE TABLE users (
    id            uuid PRIMARY KEY,
    email         text        NOT NULL,
    password_hash text        NOT NULL,
    display_name  text,
    preferences   jsonb       NOT NULL DEFAULT '{}'::jsonb,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email_key ON users (lower(email));

-- Opaque bearer tokens; only a SHA-256 of the token is stored.
CREATE TABLE auth_tokens (
    token_hash  bytea PRIMARY KEY,
    user_id     uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    revoked_at  timestamptz
);
CREATE INDEX auth_tokens_user_idx ON auth_tokens (user_id);

CREATE TABLE conversations (
    id          uuid PRIMARY KEY,
    user_id     uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    title       text,
    agents      jsonb       NOT NULL DEFAULT '[]'::jsonb,
    archived    boolean     NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    deleted_at  timestamptz
);
CREATE INDEX conversations_user_idx ON conversations (user_id, updated_at DESC, id DESC) WHERE deleted_at IS NULL;

CREATE TABLE messages (
    id              uuid PRIMARY KEY,
    conversation_id uuid        NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    role            text        NOT NULL CHECK (role IN ('user', 'assistant')),
    content         text        NOT NULL,
    query_id        uuid,
    agent           text,
    created_at      timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX messages_conversation_idx ON messages (conversation_id, created_at, id);

CREATE TABLE queries (
    id              uuid PRIMARY KEY,
    conversation_id uuid        NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    user_id         uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    message_id      uuid        NOT NULL REFERENCES messages (id),
    status          text        NOT NULL CHECK (status IN ('PENDING', 'RUNNING', 'COMPLETED', 'PARTIAL', 'FAILED', 'CANCELLED')),
    agents          jsonb       NOT NULL,
    workflow_id     text        NOT NULL UNIQUE,
    idempotency_key text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    started_at      timestamptz,
    completed_at    timestamptz
);
CREATE INDEX queries_conversation_idx ON queries (conversation_id, created_at);
CREATE INDEX queries_active_idx ON queries (created_at) WHERE status IN ('PENDING', 'RUNNING');
CREATE UNIQUE INDEX queries_idempotency_key ON queries (user_id, idempotency_key) WHERE idempotency_key IS NOT NULL;

-- One row per (query, agent); upserted by the worker, so a retried activity never duplicates it.
CREATE TABLE responses (
    query_id      uuid        NOT NULL REFERENCES queries (id) ON DELETE CASCADE,
    agent         text        NOT NULL,
    provider      text        NOT NULL,
    model         text        NOT NULL,
    status        text        NOT NULL CHECK (status IN ('PENDING', 'STREAMING', 'RETRYING', 'COMPLETED', 'FAILED', 'CANCELLED')),
    attempt       integer     NOT NULL DEFAULT 0,
    content       text,
    message_id    uuid,
    input_tokens  bigint,
    output_tokens bigint,
    latency_ms    bigint,
    error         text,
    started_at    timestamptz,
    completed_at  timestamptz,
    PRIMARY KEY (query_id, agent)
);
