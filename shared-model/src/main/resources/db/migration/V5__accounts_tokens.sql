-- Accounts v2: every bearer token gets an id, a kind and (for personal access tokens) a name,
-- scopes and a last-used time, so users can list and revoke their tokens.

-- 'session' tokens come from register/login; 'personal' tokens are created for scripts.
ALTER TABLE auth_tokens ADD COLUMN id uuid NOT NULL DEFAULT gen_random_uuid();
ALTER TABLE auth_tokens ADD CONSTRAINT auth_tokens_id_key UNIQUE (id);
ALTER TABLE auth_tokens ADD COLUMN kind text NOT NULL DEFAULT 'session'
    CHECK (kind IN ('session', 'personal'));
ALTER TABLE auth_tokens ADD COLUMN name text;
ALTER TABLE auth_tokens ADD COLUMN scopes text[] NOT NULL DEFAULT '{read,write}';
ALTER TABLE auth_tokens ADD COLUMN last_used_at timestamptz;
-- A personal token may be created without an expiry.
ALTER TABLE auth_tokens ALTER COLUMN expires_at DROP NOT NULL;
CREATE INDEX auth_tokens_user_kind_idx ON auth_tokens (user_id, kind, created_at DESC);

ALTER TABLE users ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();
ALTER TABLE users ADD COLUMN password_changed_at timestamptz;
