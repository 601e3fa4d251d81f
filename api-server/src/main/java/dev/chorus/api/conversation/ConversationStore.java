package dev.chorus.api.conversation;

import dev.chorus.api.common.Cursor;
import dev.chorus.model.agent.AgentListJson;
import dev.chorus.model.agent.AgentSpec;
import dev.chorus.model.api.ConversationView;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Repository;

@Repository
public class ConversationStore {
  private static final String COLUMNS =
      "id, title, agents, archived, created_at, updated_at, system_prompt, temperature, preset_id,"
          + " current_message_id";

  /** What a new conversation starts with. */
  public record NewConversation(
      String title,
      List<AgentSpec> agents,
      String systemPrompt,
      Double temperature,
      UUID presetId) {}

  /**
   * A change of settings; a null {@code Optional} leaves the field as it is, an empty one clears
   * it.
   */
  record Change(
      Optional<String> title,
      Boolean archived,
      Optional<List<AgentSpec>> agents,
      Optional<String> systemPrompt,
      Optional<Double> temperature) {}

  private final JdbcClient jdbc;

  ConversationStore(JdbcClient jdbc) {
    this.jdbc = jdbc;
  }

  /**
   * Creates a conversation; with an {@code idempotencyKey} the user already used, returns the
   * conversation that key created instead (the caller retries on a concurrent duplicate).
   */
  public ConversationView insert(UUID userId, NewConversation c, String idempotencyKey) {
    return jdbc.sql(
            "INSERT INTO conversations (id, user_id, title, title_source, agents, system_prompt,"
                + " temperature, preset_id, idempotency_key) VALUES (:id, :user, :title,"
                + " :source, :agents::jsonb, :system, :temperature, :preset, :key) RETURNING "
                + COLUMNS)
        .param("id", UUID.randomUUID())
        .param("user", userId)
        .param("title", c.title())
        .param("source", c.title() == null ? null : "user")
        .param("agents", AgentListJson.write(c.agents()))
        .param("system", c.systemPrompt())
        .param("temperature", c.temperature())
        .param("preset", c.presetId())
        .param("key", idempotencyKey)
        .query(this::map)
        .single();
  }

  Optional<ConversationView> findByIdempotencyKey(UUID userId, String idempotencyKey) {
    return jdbc.sql(
            "SELECT "
                + COLUMNS
                + " FROM conversations WHERE user_id = :user AND idempotency_key = :key"
                + " AND deleted_at IS NULL")
        .param("user", userId)
        .param("key", idempotencyKey)
        .query(this::map)
        .optional();
  }

  /** The user's conversation, or empty when it does not exist, is deleted, or is someone else's. */
  public Optional<ConversationView> find(UUID userId, UUID id) {
    return jdbc.sql(
            "SELECT "
                + COLUMNS
                + " FROM conversations WHERE id = :id AND user_id = :user AND deleted_at IS NULL")
        .param("id", id)
        .param("user", userId)
        .query(this::map)
        .optional();
  }

  /**
   * Newest first, by last activity. With {@code query}, only conversations whose title or any
   * message matches it (PostgreSQL full-text search, English stemming; a title that merely contains
   * the text also matches), each with a snippet of the best matching message or of the title.
   */
  List<ConversationView> list(
      UUID userId, boolean archived, String query, Cursor after, int limit) {
    return jdbc.sql(
            """
            WITH s AS (SELECT websearch_to_tsquery('english', coalesce(CAST(:q AS text), '')) AS tsq)
            SELECT c.id, c.title, c.agents, c.archived, c.created_at, c.updated_at,
                   c.system_prompt, c.temperature, c.preset_id, c.current_message_id,
                   CASE WHEN CAST(:q AS text) IS NULL THEN NULL ELSE
                     ts_headline('english',
                       coalesce((SELECT m.content FROM messages m
                                  WHERE m.conversation_id = c.id AND m.search @@ s.tsq
                                  ORDER BY ts_rank(m.search, s.tsq) DESC, m.created_at DESC
                                  LIMIT 1),
                                c.title, ''),
                       s.tsq, 'StartSel=**, StopSel=**, MaxWords=24, MinWords=8, MaxFragments=1')
                   END AS snippet
              FROM conversations c CROSS JOIN s
             WHERE c.user_id = :user AND c.deleted_at IS NULL AND c.archived = :archived
               AND (CAST(:q AS text) IS NULL
                    OR c.search @@ s.tsq
                    OR c.title ILIKE '%' || CAST(:like AS text) || '%' ESCAPE '\\'
                    OR c.id IN (SELECT m.conversation_id FROM messages m WHERE m.search @@ s.tsq))
               AND (CAST(:afterAt AS timestamptz) IS NULL
                    OR (c.updated_at, c.id) < (:afterAt, :afterId))
             ORDER BY c.updated_at DESC, c.id DESC
             LIMIT :limit
            """)
        .param("user", userId)
        .param("archived", archived)
        .param("q", query)
        .param("like", query == null ? null : likeEscape(query))
        .param("afterAt", after == null ? null : Timestamp.from(after.at()))
        .param("afterId", after == null ? null : after.id())
        .param("limit", limit)
        .query(this::map)
        .list();
  }

  /** Applies a change; empty when the conversation is not the user's (or deleted). */
  Optional<ConversationView> update(UUID userId, UUID id, Change change) {
    List<String> sets = new ArrayList<>(List.of("updated_at = now()"));
    var sql = new StringBuilder();
    if (change.title() != null) {
      sets.add("title = :title");
      sets.add("title_source = CASE WHEN CAST(:title AS text) IS NULL THEN NULL ELSE 'user' END");
    }
    if (change.archived() != null) {
      sets.add("archived = :archived");
    }
    if (change.agents() != null) {
      sets.add("agents = :agents::jsonb");
    }
    if (change.systemPrompt() != null) {
      sets.add("system_prompt = :system");
    }
    if (change.temperature() != null) {
      sets.add("temperature = :temperature");
    }
    sql.append("UPDATE conversations SET ")
        .append(String.join(", ", sets))
        .append(" WHERE id = :id AND user_id = :user AND deleted_at IS NULL RETURNING ")
        .append(COLUMNS);
    var statement = jdbc.sql(sql.toString()).param("id", id).param("user", userId);
    if (change.title() != null) {
      statement = statement.param("title", change.title().orElse(null));
    }
    if (change.archived() != null) {
      statement = statement.param("archived", change.archived());
    }
    if (change.agents() != null) {
      statement = statement.param("agents", AgentListJson.write(change.agents().orElse(List.of())));
    }
    if (change.systemPrompt() != null) {
      statement = statement.param("system", change.systemPrompt().orElse(null));
    }
    if (change.temperature() != null) {
      statement = statement.param("temperature", change.temperature().orElse(null));
    }
    return statement.query(this::map).optional();
  }

  /**
   * Soft-deletes the user's conversations among {@code ids}; returns the ids it deleted (others'
   * and unknown ids are skipped without a word: no existence leak).
   */
  List<UUID> softDelete(UUID userId, List<UUID> ids) {
    if (ids.isEmpty()) {
      return List.of();
    }
    return jdbc.sql(
            """
            UPDATE conversations SET deleted_at = now()
             WHERE user_id = :user AND deleted_at IS NULL AND id IN (:ids)
            RETURNING id
            """)
        .param("user", userId)
        .param("ids", ids)
        .query(UUID.class)
        .list();
  }

  /** Soft-deletes every conversation of the user that has no message yet. */
  List<UUID> softDeleteEmpty(UUID userId) {
    return jdbc.sql(
            """
            UPDATE conversations c SET deleted_at = now()
             WHERE c.user_id = :user AND c.deleted_at IS NULL
               AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = c.id)
            RETURNING c.id
            """)
        .param("user", userId)
        .query(UUID.class)
        .list();
  }

  /** Makes {@code messageId} (a user message) the end of the conversation's active branch. */
  public void setCurrentMessage(UUID conversationId, UUID messageId) {
    jdbc.sql("UPDATE conversations SET current_message_id = :m, updated_at = now() WHERE id = :id")
        .param("m", messageId)
        .param("id", conversationId)
        .update();
  }

  /**
   * The end of the active branch, read under a row lock: concurrent sends to one conversation chain
   * one after the other instead of both continuing from the same message.
   */
  public Optional<UUID> lockCurrentMessage(UUID conversationId) {
    return jdbc.sql("SELECT current_message_id FROM conversations WHERE id = :id FOR UPDATE")
        .param("id", conversationId)
        .query((rs, i) -> Optional.ofNullable(rs.getObject(1, UUID.class)))
        .single();
  }

  private static String likeEscape(String text) {
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_");
  }

  private ConversationView map(ResultSet rs, int row) throws SQLException {
    boolean hasSnippet = rs.getMetaData().getColumnCount() > 10;
    return new ConversationView(
        rs.getObject("id", UUID.class),
        rs.getString("title"),
        AgentListJson.read(rs.getString("agents")),
        rs.getBoolean("archived"),
        rs.getTimestamp("created_at").toInstant(),
        rs.getTimestamp("updated_at").toInstant(),
        rs.getString("system_prompt"),
        rs.getObject("temperature", Double.class),
        rs.getObject("preset_id", UUID.class),
        rs.getObject("current_message_id", UUID.class),
        hasSnippet ? rs.getString("snippet") : null);
  }
}
