-- Chorus schema v6: per-conversation settings, generated titles, full-text search over titles and
-- messages, message branches (edit / regenerate) and presets.

-- title_source says who wrote the title: a generated title never overwrites one the user set.
-- current_message_id is the newest user message of the branch the user looks at (the active leaf);
-- new messages continue from it. No foreign key: messages already reference conversations.
ALTER TABLE conversations
    ADD COLUMN system_prompt      text,
    ADD COLUMN temperature        double precision CHECK (temperature >= 0 AND temperature <= 2),
    ADD COLUMN title_source       text CHECK (title_source IN ('user', 'generated')),
    ADD COLUMN current_message_id uuid,
    ADD COLUMN preset_id          uuid,
    ADD COLUMN idempotency_key    text,
    ADD COLUMN search             tsvector
        GENERATED ALWAYS AS (to_tsvector('english', coalesce(title, ''))) STORED;
CREATE INDEX conversations_search_idx ON conversations USING gin (search);
CREATE UNIQUE INDEX conversations_idempotency_key
    ON conversations (user_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
UPDATE conversations SET title_source = 'user' WHERE title IS NOT NULL;

-- parent_id: a user message's parent is the user message it follows on its branch (null for the
-- first); an assistant message's parent is the user message it answers. Editing a user message adds
-- a sibling (same parent); regenerating adds a query (and answers) under the same user message,
-- whose query_id then names the active one.
ALTER TABLE messages
    ADD COLUMN parent_id uuid REFERENCES messages (id) ON DELETE CASCADE,
    ADD COLUMN search    tsvector GENERATED ALWAYS AS (to_tsvector('english', content)) STORED;
CREATE INDEX messages_parent_idx ON messages (parent_id);
CREATE INDEX messages_search_idx ON messages USING gin (search);

-- Rows written before branches existed form one linear branch.
UPDATE messages a SET parent_id = q.message_id
  FROM queries q
 WHERE a.role = 'assistant' AND a.query_id = q.id;
UPDATE messages m SET parent_id = p.prev_id
  FROM (SELECT id, lag(id) OVER (PARTITION BY conversation_id ORDER BY created_at, id) AS prev_id
          FROM messages WHERE role = 'user') p
 WHERE m.id = p.id AND p.prev_id IS NOT NULL;
UPDATE conversations c SET current_message_id =
       (SELECT m.id FROM messages m WHERE m.conversation_id = c.id AND m.role = 'user'
         ORDER BY m.created_at DESC, m.id DESC LIMIT 1);

-- Stats read a user's responses per day.
CREATE INDEX queries_user_created_idx ON queries (user_id, created_at);

-- Named agent sets with their settings; public ones are listed to every user, changed only by
-- their owner.
CREATE TABLE presets (
    id            uuid PRIMARY KEY,
    user_id       uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name          text        NOT NULL,
    description   text,
    agents        jsonb       NOT NULL,
    system_prompt text,
    temperature   double precision CHECK (temperature >= 0 AND temperature <= 2),
    visibility    text        NOT NULL CHECK (visibility IN ('private', 'public')),
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX presets_user_idx ON presets (user_id, created_at DESC, id DESC);
CREATE INDEX presets_public_idx ON presets (created_at DESC, id DESC) WHERE visibility = 'public';
