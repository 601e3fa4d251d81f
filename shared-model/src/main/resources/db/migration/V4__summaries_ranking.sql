-- Chorus schema v4: the summary of each completed answer and the ranking of a query's answers.
-- Written by the ranking activity with upserts keyed by (query, agent), so a retried activity
-- leaves the same rows; read by the api-server for GET /api/queries/{id}.

CREATE TABLE response_summaries (
    query_id    uuid        NOT NULL,
    agent       text        NOT NULL,
    summary     text        NOT NULL,
    reasoning   text        NOT NULL,
    key_points  jsonb       NOT NULL DEFAULT '[]'::jsonb,
    -- 'judge' (a judge model wrote it) or 'builtin' (the deterministic scorer did)
    method      text        NOT NULL CHECK (method IN ('judge', 'builtin')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (query_id, agent),
    FOREIGN KEY (query_id, agent) REFERENCES responses (query_id, agent) ON DELETE CASCADE
);

CREATE TABLE query_rankings (
    query_id    uuid             NOT NULL,
    agent       text             NOT NULL,
    rank        integer          NOT NULL CHECK (rank >= 1),
    -- weighted mean of the metrics, 0..1
    score       double precision NOT NULL CHECK (score >= 0 AND score <= 1),
    -- {"relevance": 0.8, "agreement": 0.4, "completeness": 1, "latency": 0.5, "cost": 1}
    metrics     jsonb            NOT NULL,
    method      text             NOT NULL CHECK (method IN ('judge', 'builtin')),
    created_at  timestamptz      NOT NULL DEFAULT now(),
    updated_at  timestamptz      NOT NULL DEFAULT now(),
    PRIMARY KEY (query_id, agent),
    FOREIGN KEY (query_id, agent) REFERENCES responses (query_id, agent) ON DELETE CASCADE
);
