-- Chorus schema v2: the provider directory and model catalog (written by workers, read by the API),
-- and the cost and finish reason of each response.

-- One row per provider a worker serves. Workers upsert their configuration at start and their
-- health and catalog on every sync; the API lists providers and validates agents from here.
CREATE TABLE providers (
    id               text PRIMARY KEY,
    kind             text        NOT NULL CHECK (kind IN ('mock', 'openai', 'openai-compatible', 'anthropic', 'ollama', 'gemini')),
    base_url         text,
    -- The worker holds a key for it (or it needs none); otherwise only users with their own key can use it.
    server_configured boolean    NOT NULL,
    health           text        NOT NULL DEFAULT 'UNKNOWN' CHECK (health IN ('UNKNOWN', 'UP', 'DOWN', 'UNCONFIGURED')),
    health_detail    text,
    latency_ms       bigint,
    checked_at       timestamptz,
    models_synced_at timestamptz,
    registered_at    timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE provider_models (
    provider                text        NOT NULL REFERENCES providers (id) ON DELETE CASCADE,
    model                   text        NOT NULL,
    display_name            text,
    context_window          integer,
    max_output_tokens       integer,
    input_usd_per_mtok      numeric(12, 6),
    output_usd_per_mtok     numeric(12, 6),
    synced_at               timestamptz NOT NULL,
    PRIMARY KEY (provider, model)
);

ALTER TABLE responses
    ADD COLUMN cost_usd      numeric(16, 8),
    ADD COLUMN finish_reason text;
