package dev.chorus.worker.query;

import dev.chorus.model.agent.AgentListJson;
import dev.chorus.model.agent.Usage;
import dev.chorus.model.api.MessageRole;
import dev.chorus.model.api.MessageView;
import dev.chorus.model.api.QueryStatus;
import dev.chorus.model.api.QueryView;
import dev.chorus.model.workflow.AgentTask;
import dev.chorus.worker.provider.ChatMessage;
import java.nio.charset.StandardCharsets;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.springframework.jdbc.core.namedparam.MapSqlParameterSource;
import org.springframework.jdbc.core.namedparam.NamedParameterJdbcTemplate;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Repository;
import org.springframework.transaction.annotation.Transactional;

/**
 * The worker's writes to PostgreSQL. Every write is idempotent — keyed by query and agent — so an
 * activity that runs twice leaves the same rows.
 */
@Repository
public class QueryStore {
  private final JdbcClient jdbc;

  private final NamedParameterJdbcTemplate batch;

  public QueryStore(JdbcClient jdbc, NamedParameterJdbcTemplate batch) {
    this.jdbc = jdbc;
    this.batch = batch;
  }

  /** Id of the assistant message an agent writes for a query: the same on every attempt. */
  public static UUID assistantMessageId(UUID queryId, String agent) {
    return UUID.nameUUIDFromBytes(
        ("assistant:" + queryId + ":" + agent).getBytes(StandardCharsets.UTF_8));
  }

  public Optional<QueryView> findQuery(UUID queryId) {
    return jdbc.sql(
            """
            SELECT id, conversation_id, message_id, status, agents, workflow_id, created_at, completed_at
            FROM queries WHERE id = :id
            """)
        .param("id", queryId)
        .query((rs, i) ->
            new QueryView(
                rs.getObject("id", UUID.class),
                rs.getObject("conversation_id", UUID.class),
                rs.getObject("message_id", UUID.class),
                QueryStatus.valueOf(rs.getString("status")),
                AgentListJson.read(rs.getString("agents")),
                List.of(),
                List.of(),
                List.of(),
                rs.getString("workflow_id"),
                instant(rs.getTimestamp("created_at")),
                instant(rs.getTimestamp("completed_at"))))
        .optional();
  }

  public Optional<MessageView> findMessage(UUID messageId) {
    return jdbc.sql(
            "SELECT id, conversation_id, role, content, query_id, agent, created_at, parent_id"
                + " FROM messages WHERE id = :id")
        .param("id", messageId)
        .query((rs, i) ->
            new MessageView(
                rs.getObject("id", UUID.class),
                rs.getObject("conversation_id", UUID.class),
                MessageRole.valueOf(rs.getString("role").toUpperCase(java.util.Locale.ROOT)),
                rs.getString("content"),
                rs.getObject("query_id", UUID.class),
                rs.getString("agent"),
                instant(rs.getTimestamp("created_at")),
                rs.getObject("parent_id", UUID.class),
                null,
                null))
        .optional();
  }

  /** PENDING → RUNNING; returns false when the query had already moved on. */
  public boolean markRunning(UUID queryId) {
    return jdbc.sql(
                """
                UPDATE queries SET status = 'RUNNING', started_at = coalesce(started_at, now())
                WHERE id = :id AND status = 'PENDING'
                """)
            .param("id", queryId)
            .update()
        == 1;
  }

  /**
   * The turns an agent sees: the branch of the conversation that leads to the user's message (each
   * user message's parent, up to the first), with only this agent's own earlier answers, newest
   * {@code maxTurns}. Versions of a message that were edited away, and answers that were
   * regenerated, are not on the branch and never sent.
   */
  public List<ChatMessage> loadContext(AgentTask task, int maxTurns) {
    return loadContext(task, task.agent().name(), maxTurns);
  }

  /**
   * As {@link #loadContext(AgentTask, int)}, with the earlier answers of {@code speaker} (a debate
   * step's agent answers under a round name, but its earlier turns are under its own name).
   */
  public List<ChatMessage> loadContext(AgentTask task, String speaker, int maxTurns) {
    // Of an earlier user message's answers by this agent, the one of its active query (query_id)
    // wins; without one, the newest.
    List<ChatMessage> turns =
        new ArrayList<>(
            jdbc.sql(
                    """
                    WITH RECURSIVE path AS (
                      SELECT id, parent_id, query_id, content, 0 AS depth
                        FROM messages WHERE id = :messageId
                      UNION ALL
                      SELECT m.id, m.parent_id, m.query_id, m.content, p.depth + 1
                        FROM messages m JOIN path p ON m.id = p.parent_id
                       WHERE p.depth < :limit
                    ), turns AS (
                      SELECT 'user' AS role, content, depth, 1 AS ord FROM path
                      UNION ALL
                      SELECT 'assistant', a.content, p.depth, 0
                        FROM path p
                        JOIN LATERAL (
                          SELECT content FROM messages a
                           WHERE a.parent_id = p.id AND a.role = 'assistant' AND a.agent = :agent
                           ORDER BY (a.query_id IS NOT DISTINCT FROM p.query_id) DESC,
                                    a.created_at DESC, a.id DESC
                           LIMIT 1) a ON true
                       WHERE p.depth > 0
                    )
                    SELECT role, content FROM turns ORDER BY depth, ord LIMIT :limit
                    """)
                .param("messageId", task.messageId())
                .param("agent", speaker)
                .param("limit", maxTurns)
                .query((rs, i) ->
                    new ChatMessage(
                        "user".equals(rs.getString("role"))
                            ? ChatMessage.Role.USER
                            : ChatMessage.Role.ASSISTANT,
                        rs.getString("content")))
                .list());
    Collections.reverse(turns);
    String system = task.agent().systemPrompt();
    if (system != null && !system.isBlank()) {
      turns.addFirst(new ChatMessage(ChatMessage.Role.SYSTEM, system));
    }
    return turns;
  }

  /** The texts of the query's COMPLETED responses among {@code agents}, by response name. */
  public Map<String, String> completedContents(UUID queryId, List<String> agents) {
    if (agents.isEmpty()) {
      return Map.of();
    }
    Map<String, String> out = new HashMap<>();
    jdbc.sql(
            """
            SELECT agent, content FROM responses
            WHERE query_id = :queryId AND status = 'COMPLETED' AND agent IN (:agents)
            """)
        .param("queryId", queryId)
        .param("agents", List.copyOf(new HashSet<>(agents)))
        .query((rs, i) -> Map.entry(rs.getString("agent"), rs.getString("content")))
        .list()
        .forEach(e -> out.put(e.getKey(), e.getValue()));
    return out;
  }

  public void startResponse(AgentTask task, int attempt) {
    jdbc.sql(
            """
            INSERT INTO responses (query_id, agent, provider, model, status, attempt, started_at)
            VALUES (:queryId, :agent, :provider, :model, 'STREAMING', :attempt, now())
            ON CONFLICT (query_id, agent) DO UPDATE
              SET status = 'STREAMING', attempt = excluded.attempt, error = NULL,
                  provider = excluded.provider, model = excluded.model
              WHERE responses.status NOT IN ('COMPLETED', 'CANCELLED')
            """)
        .param("queryId", task.queryId())
        .param("agent", task.agent().name())
        .param("provider", task.agent().provider())
        .param("model", task.agent().model())
        .param("attempt", attempt)
        .update();
  }

  /**
   * Persists the final answer and its assistant message in one transaction; returns the message id.
   * An attempt that a newer attempt has superseded (Temporal timed it out while it still ran)
   * changes nothing: the newer attempt's answer is the one that counts.
   */
  @Transactional
  public UUID completeResponse(
      AgentTask task,
      int attempt,
      String content,
      Usage usage,
      String finishReason,
      long latencyMs) {
    UUID messageId = upsertAssistantMessage(task, attempt, content);
    jdbc.sql(
            """
            INSERT INTO responses (query_id, agent, provider, model, status, attempt, content, message_id,
                                   input_tokens, output_tokens, cost_usd, finish_reason, latency_ms,
                                   started_at, completed_at)
            VALUES (:queryId, :agent, :provider, :model, 'COMPLETED', :attempt, :content, :messageId,
                    :input, :output, :cost, :finishReason, :latency, now(), now())
            ON CONFLICT (query_id, agent) DO UPDATE
              SET status = 'COMPLETED', attempt = excluded.attempt, content = excluded.content,
                  provider = excluded.provider, model = excluded.model,
                  message_id = excluded.message_id, input_tokens = excluded.input_tokens,
                  output_tokens = excluded.output_tokens, cost_usd = excluded.cost_usd,
                  finish_reason = excluded.finish_reason, latency_ms = excluded.latency_ms,
                  error = NULL, completed_at = coalesce(responses.completed_at, now())
              WHERE responses.status <> 'CANCELLED' AND responses.attempt <= excluded.attempt
            """)
        .param("queryId", task.queryId())
        .param("agent", task.agent().name())
        .param("provider", task.agent().provider())
        .param("model", task.agent().model())
        .param("attempt", attempt)
        .param("content", content)
        .param("messageId", messageId)
        .param("input", usage.inputTokens())
        .param("output", usage.outputTokens())
        .param("cost", usage.costUsd())
        .param("finishReason", finishReason)
        .param("latency", latencyMs)
        .update();
    return messageId;
  }

  /**
   * Saves the text an attempt has streamed so far, so the next attempt can continue from it. Only
   * the attempt that owns the row writes: a late write of a dead attempt changes nothing.
   */
  public void checkpoint(AgentTask task, int attempt, String text) {
    checkpointAll(List.of(new Checkpoint(task, attempt, text)));
  }

  /** One attempt's streamed text so far, to be saved with {@link #checkpointAll}. */
  public record Checkpoint(AgentTask task, int attempt, String text) {}

  /**
   * Saves several attempts' checkpoints in one round trip; each, as {@link #checkpoint}, only while
   * its attempt is the response's current one and still streaming.
   */
  public void checkpointAll(List<Checkpoint> checkpoints) {
    if (checkpoints.isEmpty()) {
      return;
    }
    MapSqlParameterSource[] rows = new MapSqlParameterSource[checkpoints.size()];
    for (int i = 0; i < rows.length; i++) {
      Checkpoint c = checkpoints.get(i);
      rows[i] =
          new MapSqlParameterSource()
              .addValue("text", c.text())
              .addValue("queryId", c.task().queryId())
              .addValue("agent", c.task().agent().name())
              .addValue("attempt", c.attempt());
    }
    batch.batchUpdate(
        """
        UPDATE responses SET content = :text
        WHERE query_id = :queryId AND agent = :agent AND attempt = :attempt
          AND status = 'STREAMING'
        """,
        rows);
  }

  /** The last checkpoint of an unfinished response: the text a new attempt continues from. */
  public Optional<String> loadCheckpoint(AgentTask task) {
    return jdbc.sql(
            """
            SELECT content FROM responses
            WHERE query_id = :queryId AND agent = :agent AND status IN ('STREAMING', 'RETRYING')
              AND content IS NOT NULL
            """)
        .param("queryId", task.queryId())
        .param("agent", task.agent().name())
        .query(String.class)
        .optional();
  }

  /**
   * Keeps what a cancelled agent had streamed as its answer (and as an assistant message when it is
   * not empty), marked CANCELLED; a response that already ended stays as it was.
   */
  @Transactional
  public void cancelResponse(AgentTask task, int attempt, String partial, long latencyMs) {
    int updated =
        jdbc.sql(
                """
                INSERT INTO responses (query_id, agent, provider, model, status, attempt, content,
                                       latency_ms, started_at, completed_at)
                VALUES (:queryId, :agent, :provider, :model, 'CANCELLED', :attempt, :content,
                        :latency, now(), now())
                ON CONFLICT (query_id, agent) DO UPDATE
                  SET status = 'CANCELLED', attempt = excluded.attempt, content = excluded.content,
                      latency_ms = excluded.latency_ms, completed_at = now()
                  WHERE responses.status NOT IN ('COMPLETED', 'FAILED', 'CANCELLED')
                """)
            .param("queryId", task.queryId())
            .param("agent", task.agent().name())
            .param("provider", task.agent().provider())
            .param("model", task.agent().model())
            .param("attempt", attempt)
            .param("content", partial)
            .param("latency", latencyMs)
            .update();
    if (updated > 0 && !partial.isEmpty()) {
      UUID messageId = upsertAssistantMessage(task, attempt, partial);
      jdbc.sql("UPDATE responses SET message_id = :m WHERE query_id = :q AND agent = :a")
          .param("m", messageId)
          .param("q", task.queryId())
          .param("a", task.agent().name())
          .update();
    }
  }

  /**
   * Marks an agent CANCELLED keeping whatever text it has, unless its response already ended;
   * returns that text when this call changed the status.
   */
  public Optional<String> markCancelled(AgentTask task) {
    return jdbc.sql(
            """
            INSERT INTO responses (query_id, agent, provider, model, status, completed_at)
            VALUES (:queryId, :agent, :provider, :model, 'CANCELLED', now())
            ON CONFLICT (query_id, agent) DO UPDATE
              SET status = 'CANCELLED', completed_at = now()
              WHERE responses.status NOT IN ('COMPLETED', 'FAILED', 'CANCELLED')
            RETURNING coalesce(content, '')
            """)
        .param("queryId", task.queryId())
        .param("agent", task.agent().name())
        .param("provider", task.agent().provider())
        .param("model", task.agent().model())
        .query(String.class)
        .optional();
  }

  /** The agent's answer as an assistant message of the conversation; its id is deterministic. */
  private UUID upsertAssistantMessage(AgentTask task, int attempt, String content) {
    UUID messageId = assistantMessageId(task.queryId(), task.agent().name());
    jdbc.sql(
            """
            INSERT INTO messages (id, conversation_id, role, content, query_id, agent, parent_id)
            VALUES (:id, :conversationId, 'assistant', :content, :queryId, :agent, :parentId)
            ON CONFLICT (id) DO UPDATE SET content = excluded.content
              WHERE NOT EXISTS (SELECT 1 FROM responses r
                                WHERE r.query_id = :queryId AND r.agent = :agent
                                  AND r.attempt > :attempt)
            """)
        .param("attempt", attempt)
        .param("id", messageId)
        .param("parentId", task.messageId())
        .param("conversationId", task.conversationId())
        .param("content", content)
        .param("queryId", task.queryId())
        .param("agent", task.agent().name())
        .update();
    return messageId;
  }

  /** Marks an agent failed for good, unless it had already completed. */
  public void failResponse(AgentTask task, String error) {
    jdbc.sql(
            """
            INSERT INTO responses (query_id, agent, provider, model, status, error, completed_at)
            VALUES (:queryId, :agent, :provider, :model, 'FAILED', :error, now())
            ON CONFLICT (query_id, agent) DO UPDATE
              SET status = 'FAILED', error = excluded.error, completed_at = now()
              WHERE responses.status NOT IN ('COMPLETED', 'CANCELLED')
            """)
        .param("queryId", task.queryId())
        .param("agent", task.agent().name())
        .param("provider", task.agent().provider())
        .param("model", task.agent().model())
        .param("error", error)
        .update();
  }

  /** Moves an unfinished query to its final status; a second call changes nothing. */
  @Transactional
  public void finishQuery(UUID queryId, QueryStatus status) {
    jdbc.sql(
            """
            UPDATE queries SET status = :status, completed_at = now()
            WHERE id = :id AND status IN ('PENDING', 'RUNNING')
            """)
        .param("status", status.name())
        .param("id", queryId)
        .update();
    jdbc.sql(
            """
            UPDATE conversations SET updated_at = now()
            WHERE id = (SELECT conversation_id FROM queries WHERE id = :id)
            """)
        .param("id", queryId)
        .update();
    generateTitle(queryId);
  }

  /**
   * Names an untitled conversation after the user message of its first finished query. Only a
   * conversation without a title gets one, so a title the user set (or cleared and set again) is
   * never overwritten, and a second call changes nothing.
   */
  void generateTitle(UUID queryId) {
    jdbc.sql(
            """
            SELECT m.content FROM queries q
            JOIN messages m ON m.id = q.message_id
            JOIN conversations c ON c.id = q.conversation_id
            WHERE q.id = :id AND c.title IS NULL
            """)
        .param("id", queryId)
        .query(String.class)
        .optional()
        .map(ConversationTitle::from)
        .filter(title -> !title.isEmpty())
        .ifPresent(title ->
            jdbc.sql(
                    """
                    UPDATE conversations SET title = :title, title_source = 'generated'
                    WHERE id = (SELECT conversation_id FROM queries WHERE id = :id) AND title IS NULL
                    """)
                .param("title", title)
                .param("id", queryId)
                .update());
  }

  private static Instant instant(Timestamp ts) {
    return ts == null ? null : ts.toInstant();
  }
}
