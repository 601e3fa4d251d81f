package dev.chorus.api.query;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import dev.chorus.api.common.Cursor;
import dev.chorus.model.agent.AgentListJson;
import dev.chorus.model.agent.AgentSpec;
import dev.chorus.model.agent.Usage;
import dev.chorus.model.api.AnswerSummary;
import dev.chorus.model.api.MessageRole;
import dev.chorus.model.api.MessageView;
import dev.chorus.model.api.QueryStatus;
import dev.chorus.model.api.QueryView;
import dev.chorus.model.api.RankEntry;
import dev.chorus.model.api.ResponseStatus;
import dev.chorus.model.api.ResponseView;
import dev.chorus.model.json.ChorusJson;
import dev.chorus.model.workflow.ChatQueryInput;
import dev.chorus.model.workflow.QueryPolicy;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Repository;

/** Messages and queries as the api-server reads and creates them. */
@Repository
public class QueryStore {
  public record ActiveQuery(UUID queryId, UUID conversationId) {}

  private static final TypeReference<List<String>> KEY_POINTS = new TypeReference<>() {};
  private static final TypeReference<Map<String, Double>> METRICS = new TypeReference<>() {};
  private static final String MESSAGE_COLUMNS =
      "id, conversation_id, role, content, query_id, agent, created_at, parent_id";
  private static final String QUERY_COLUMNS =
      "id, conversation_id, user_id, message_id, status, agents, workflow_id, created_at, completed_at";

  /** The most messages an export holds. */
  public static final int EXPORT_LIMIT = 100_000;

  private final JdbcClient jdbc;

  QueryStore(JdbcClient jdbc) {
    this.jdbc = jdbc;
  }

  /** A user message following {@code parentId} on its branch (null: the first message). */
  MessageView insertUserMessage(UUID conversationId, String content, UUID parentId) {
    return jdbc.sql(
            "INSERT INTO messages (id, conversation_id, role, content, parent_id) VALUES (:id, :conversation, 'user', :content, :parent) RETURNING "
                + MESSAGE_COLUMNS)
        .param("id", UUID.randomUUID())
        .param("conversation", conversationId)
        .param("content", content)
        .param("parent", parentId)
        .query(QueryStore::message)
        .single();
  }

  QueryView insertQuery(
      UUID queryId,
      UUID conversationId,
      UUID userId,
      UUID messageId,
      List<AgentSpec> agents,
      QueryPolicy policy,
      String idempotencyKey) {
    jdbc.sql(
            """
            INSERT INTO queries (id, conversation_id, user_id, message_id, status, agents, policy, workflow_id, idempotency_key)
            VALUES (:id, :conversation, :user, :message, 'PENDING', :agents::jsonb, :policy::jsonb, :workflowId, :key)
            """)
        .param("id", queryId)
        .param("conversation", conversationId)
        .param("user", userId)
        .param("message", messageId)
        .param("agents", AgentListJson.write(agents))
        .param("policy", policy == null ? null : writePolicy(policy))
        .param("workflowId", ChatQueryInput.workflowId(queryId))
        .param("key", idempotencyKey)
        .update();
    jdbc.sql("UPDATE messages SET query_id = :query WHERE id = :message")
        .param("query", queryId)
        .param("message", messageId)
        .update();
    jdbc.sql("UPDATE conversations SET updated_at = now() WHERE id = :id")
        .param("id", conversationId)
        .update();
    return findQuery(userId, queryId).orElseThrow();
  }

  Optional<UUID> queryIdForKey(UUID userId, String idempotencyKey) {
    return jdbc.sql("SELECT id FROM queries WHERE user_id = :user AND idempotency_key = :key")
        .param("user", userId)
        .param("key", idempotencyKey)
        .query(UUID.class)
        .optional();
  }

  public Optional<QueryView> findQuery(UUID userId, UUID queryId) {
    return jdbc.sql("SELECT " + QUERY_COLUMNS + " FROM queries WHERE id = :id AND user_id = :user")
        .param("id", queryId)
        .param("user", userId)
        .query(QueryStore::query)
        .optional()
        .map(q ->
            q.withResponses(responses(queryId)).withRanking(summaries(queryId), ranking(queryId)));
  }

  Optional<MessageView> findMessage(UUID messageId) {
    return jdbc.sql("SELECT " + MESSAGE_COLUMNS + " FROM messages WHERE id = :id")
        .param("id", messageId)
        .query(QueryStore::message)
        .optional();
  }

  /** A message of the conversation, or empty. */
  Optional<MessageView> findMessageIn(UUID conversationId, UUID messageId) {
    return jdbc.sql(
            "SELECT "
                + MESSAGE_COLUMNS
                + " FROM messages WHERE id = :id AND conversation_id = :conversation")
        .param("id", messageId)
        .param("conversation", conversationId)
        .query(QueryStore::message)
        .optional();
  }

  /** Every message of every branch, oldest first, after the cursor. */
  List<MessageView> messages(UUID conversationId, Cursor after, int limit) {
    return jdbc.sql(
            "SELECT "
                + MESSAGE_COLUMNS
                + """
                 FROM messages WHERE conversation_id = :conversation
                  AND (CAST(:afterAt AS timestamptz) IS NULL OR (created_at, id) > (:afterAt, :afterId))
                ORDER BY created_at, id LIMIT :limit
                """)
        .param("conversation", conversationId)
        .param("afterAt", after == null ? null : Timestamp.from(after.at()))
        .param("afterId", after == null ? null : after.id())
        .param("limit", limit)
        .query(QueryStore::message)
        .list();
  }

  /**
   * The active branch, turn by turn: from the conversation's current message up its parents, each
   * user message followed by one answer per agent in agent name order (the answer of the message's
   * active query, else that agent's newest). After the cursor's message, in the same order; the
   * cursor names a message (its place is looked up), so a regenerated answer stays under its
   * question.
   */
  List<MessageView> activeBranch(UUID conversationId, UUID afterId, int limit) {
    return jdbc.sql(
            """
            WITH RECURSIVE path AS (
              SELECT m.id, m.parent_id, m.query_id FROM messages m
               WHERE m.id = (SELECT current_message_id FROM conversations WHERE id = :conversation)
                 AND m.conversation_id = :conversation
              UNION ALL
              SELECT m.id, m.parent_id, m.query_id FROM messages m JOIN path p ON m.id = p.parent_id
            ), branch AS (
              SELECT id FROM path
              UNION ALL
              SELECT a.id FROM path p
                JOIN LATERAL (
                  SELECT DISTINCT ON (x.agent) x.id FROM messages x
                   WHERE x.parent_id = p.id AND x.role = 'assistant'
                   ORDER BY x.agent, (x.query_id IS NOT DISTINCT FROM p.query_id) DESC,
                            x.created_at DESC, x.id DESC) a ON true
            ), placed AS (
              SELECT m.*, coalesce(q.created_at, m.created_at) AS turn_at,
                     CASE WHEN m.role = 'user' THEN 0 ELSE 1 END AS ord,
                     coalesce(m.agent, '') AS agent_key
                FROM messages m
                LEFT JOIN messages q ON m.role = 'assistant' AND q.id = m.parent_id
               WHERE m.conversation_id = :conversation
            )
            SELECT id, conversation_id, role, content, query_id, agent, created_at, parent_id
              FROM placed
             WHERE id IN (SELECT id FROM branch)
               AND (CAST(:afterId AS uuid) IS NULL
                    OR (turn_at, ord, agent_key, created_at, id) >
                       (SELECT turn_at, ord, agent_key, created_at, id FROM placed
                         WHERE id = :afterId))
             ORDER BY turn_at, ord, agent_key, created_at, id
             LIMIT :limit
            """)
        .param("conversation", conversationId)
        .param("afterId", afterId)
        .param("limit", limit)
        .query(QueryStore::message)
        .list();
  }

  /** Up to {@value #EXPORT_LIMIT} messages: the active branch, or every message. */
  public List<MessageView> exportMessages(UUID conversationId, boolean activeBranchOnly) {
    return withSiblings(
        conversationId,
        activeBranchOnly
            ? activeBranch(conversationId, null, EXPORT_LIMIT)
            : messages(conversationId, null, EXPORT_LIMIT));
  }

  /** The conversation's queries, oldest first. */
  public List<UUID> queryIds(UUID conversationId) {
    return jdbc.sql(
            "SELECT id FROM queries WHERE conversation_id = :conversation ORDER BY created_at, id")
        .param("conversation", conversationId)
        .query(UUID.class)
        .list();
  }

  /** The user message ids of the active branch, newest first. */
  List<UUID> activePath(UUID conversationId) {
    return jdbc.sql(
            """
            WITH RECURSIVE path AS (
              SELECT m.id, m.parent_id, 0 AS depth FROM messages m
               WHERE m.id = (SELECT current_message_id FROM conversations WHERE id = :conversation)
              UNION ALL
              SELECT m.id, m.parent_id, p.depth + 1 FROM messages m JOIN path p ON m.id = p.parent_id
            )
            SELECT id FROM path ORDER BY depth
            """)
        .param("conversation", conversationId)
        .query(UUID.class)
        .list();
  }

  /** The newest user message below {@code messageId}, following the newest child at each step. */
  UUID newestLeaf(UUID messageId) {
    return jdbc.sql(
            """
            WITH RECURSIVE down AS (
              SELECT CAST(:id AS uuid) AS id, 0 AS depth
              UNION ALL
              SELECT (SELECT c.id FROM messages c WHERE c.parent_id = d.id AND c.role = 'user'
                       ORDER BY c.created_at DESC, c.id DESC LIMIT 1), d.depth + 1
                FROM down d WHERE d.id IS NOT NULL
            )
            SELECT id FROM down WHERE id IS NOT NULL ORDER BY depth DESC LIMIT 1
            """)
        .param("id", messageId)
        .query(UUID.class)
        .single();
  }

  /** Makes {@code queryId} the active query (whose answers the branch shows) of its message. */
  void setActiveQuery(UUID userMessageId, UUID queryId) {
    jdbc.sql("UPDATE messages SET query_id = :query WHERE id = :id AND role = 'user'")
        .param("query", queryId)
        .param("id", userMessageId)
        .update();
  }

  /**
   * The messages with their {@code siblings} and {@code siblingIndex}: the versions of an edited
   * user message (same parent), an agent's answers to the same user message (regenerated).
   */
  List<MessageView> withSiblings(UUID conversationId, List<MessageView> page) {
    if (page.isEmpty()) {
      return page;
    }
    Map<String, List<UUID>> groups = new java.util.HashMap<>();
    jdbc.sql(
            """
            SELECT id, role, parent_id, agent FROM messages
             WHERE conversation_id = :conversation ORDER BY created_at, id
            """)
        .param("conversation", conversationId)
        .query((rs, i) ->
            Map.entry(
                siblingKey(
                    rs.getString("role"),
                    rs.getObject("parent_id", UUID.class),
                    rs.getString("agent")),
                rs.getObject("id", UUID.class)))
        .list()
        .forEach(e -> groups.computeIfAbsent(e.getKey(), k -> new ArrayList<>()).add(e.getValue()));
    return page.stream()
        .map(m ->
            m.withSiblings(
                groups.getOrDefault(
                    siblingKey(m.role().wire(), m.parentId(), m.agent()), List.of(m.id()))))
        .toList();
  }

  private static String siblingKey(String role, UUID parentId, String agent) {
    return role + "|" + parentId + "|" + ("assistant".equals(role) ? agent : "");
  }

  /** Cancels a query whose workflow never started; false when it is no longer PENDING. */
  public boolean cancelPending(UUID queryId) {
    return jdbc.sql(
                """
                UPDATE queries SET status = 'CANCELLED', completed_at = now()
                WHERE id = :id AND status = 'PENDING'
                """)
            .param("id", queryId)
            .update()
        > 0;
  }

  /** Queries of the conversations that are not finished yet: their streams may still be live. */
  public List<UUID> activeQueryIds(Collection<UUID> conversationIds) {
    if (conversationIds.isEmpty()) {
      return List.of();
    }
    return jdbc.sql(
            "SELECT id FROM queries WHERE conversation_id IN (:conversations) AND status IN ('PENDING', 'RUNNING') ORDER BY created_at")
        .param("conversations", conversationIds)
        .query(UUID.class)
        .list();
  }

  /** The user's queries that are not finished yet, in every conversation. */
  public List<UUID> activeQueryIdsOfUser(UUID userId) {
    return jdbc.sql(
            "SELECT id FROM queries WHERE user_id = :user AND status IN ('PENDING', 'RUNNING') ORDER BY created_at")
        .param("user", userId)
        .query(UUID.class)
        .list();
  }

  /**
   * The conversation's queries that finished at or after {@code since}, oldest first: a client
   * resuming a conversation from an event of that time may have missed their ends.
   */
  public List<UUID> finishedQueryIdsSince(UUID conversationId, java.time.Instant since) {
    return jdbc.sql(
            "SELECT id FROM queries WHERE conversation_id = :conversation AND status NOT IN ('PENDING', 'RUNNING') AND completed_at >= :since ORDER BY created_at")
        .param("conversation", conversationId)
        .param("since", java.sql.Timestamp.from(since))
        .query(UUID.class)
        .list();
  }

  /** The agents the user chose as defaults ({@code preferences.defaultAgents}), if any. */
  Optional<List<AgentSpec>> preferredAgents(UUID userId) {
    return jdbc.sql(
            "SELECT preferences -> 'defaultAgents' FROM users WHERE id = :id AND jsonb_typeof(preferences -> 'defaultAgents') = 'array'")
        .param("id", userId)
        .query(String.class)
        .optional()
        .map(AgentListJson::read)
        .filter(list -> !list.isEmpty());
  }

  /** The queries still under way and those that finished at or after {@code since}. */
  public List<ActiveQuery> activeOrFinishedSince(Instant since) {
    return jdbc.sql(
            "SELECT id, conversation_id FROM queries WHERE status IN ('PENDING', 'RUNNING') OR completed_at >= :since")
        .param("since", java.sql.Timestamp.from(since))
        .query((rs, i) -> new ActiveQuery(rs.getObject(1, UUID.class), rs.getObject(2, UUID.class)))
        .list();
  }

  /** Every unfinished query with its conversation, for the relay to watch after a restart. */
  public List<ActiveQuery> allActiveQueries() {
    return jdbc.sql(
            "SELECT id, conversation_id FROM queries WHERE status IN ('PENDING', 'RUNNING')")
        .query((rs, i) -> new ActiveQuery(rs.getObject(1, UUID.class), rs.getObject(2, UUID.class)))
        .list();
  }

  /**
   * Workflow inputs of PENDING queries older than the grace period: their start may have been lost.
   */
  List<ChatQueryInput> stalePending(Instant createdBefore, int limit) {
    return jdbc.sql(
            "SELECT "
                + QUERY_COLUMNS
                + ", policy FROM queries WHERE status = 'PENDING' AND created_at < :before ORDER BY created_at LIMIT :limit")
        .param("before", Timestamp.from(createdBefore))
        .param("limit", limit)
        .query((rs, i) ->
            new ChatQueryInput(
                rs.getObject("id", UUID.class),
                rs.getObject("conversation_id", UUID.class),
                rs.getObject("user_id", UUID.class),
                rs.getObject("message_id", UUID.class),
                AgentListJson.read(rs.getString("agents")),
                readPolicy(rs.getString("policy"))))
        .list();
  }

  private static String writePolicy(QueryPolicy policy) {
    try {
      return ChorusJson.mapper().writeValueAsString(policy);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("query policy cannot be written as JSON", e);
    }
  }

  private static QueryPolicy readPolicy(String json) {
    if (json == null) {
      return null;
    }
    try {
      return ChorusJson.mapper().readValue(json, QueryPolicy.class);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("stored query policy is not valid JSON", e);
    }
  }

  private List<ResponseView> responses(UUID queryId) {
    return jdbc.sql(
            """
            SELECT agent, provider, model, status, attempt, content, input_tokens, output_tokens,
                   cost_usd, latency_ms, error, started_at, completed_at
            FROM responses WHERE query_id = :id ORDER BY agent
            """)
        .param("id", queryId)
        .query((rs, i) ->
            new ResponseView(
                rs.getString("agent"),
                rs.getString("provider"),
                rs.getString("model"),
                ResponseStatus.valueOf(rs.getString("status")),
                rs.getInt("attempt"),
                rs.getString("content"),
                new Usage(
                    rs.getLong("input_tokens"),
                    rs.getLong("output_tokens"),
                    rs.getBigDecimal("cost_usd")),
                rs.getObject("latency_ms", Long.class),
                rs.getString("error"),
                instant(rs.getTimestamp("started_at")),
                instant(rs.getTimestamp("completed_at"))))
        .list();
  }

  /** The answers' summaries, best ranked first. */
  private List<AnswerSummary> summaries(UUID queryId) {
    return jdbc.sql(
            """
            SELECT s.agent, s.summary, s.reasoning, s.key_points FROM response_summaries s
            LEFT JOIN query_rankings r ON r.query_id = s.query_id AND r.agent = s.agent
            WHERE s.query_id = :id ORDER BY r.rank NULLS LAST, s.agent
            """)
        .param("id", queryId)
        .query((rs, i) ->
            new AnswerSummary(
                rs.getString("agent"),
                rs.getString("summary"),
                rs.getString("reasoning"),
                json(rs.getString("key_points"), KEY_POINTS)))
        .list();
  }

  private List<RankEntry> ranking(UUID queryId) {
    return jdbc.sql(
            """
            SELECT agent, rank, score, metrics FROM query_rankings
            WHERE query_id = :id ORDER BY rank, agent
            """)
        .param("id", queryId)
        .query((rs, i) ->
            new RankEntry(
                rs.getString("agent"),
                rs.getInt("rank"),
                rs.getDouble("score"),
                json(rs.getString("metrics"), METRICS)))
        .list();
  }

  private static <T> T json(String value, TypeReference<T> type) {
    try {
      return ChorusJson.mapper().readValue(value, type);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("stored ranking JSON is not valid", e);
    }
  }

  private static QueryView query(ResultSet rs, int row) throws SQLException {
    return new QueryView(
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
        instant(rs.getTimestamp("completed_at")));
  }

  static MessageView message(ResultSet rs, int row) throws SQLException {
    return new MessageView(
        rs.getObject("id", UUID.class),
        rs.getObject("conversation_id", UUID.class),
        MessageRole.valueOf(rs.getString("role").toUpperCase(Locale.ROOT)),
        rs.getString("content"),
        rs.getObject("query_id", UUID.class),
        rs.getString("agent"),
        instant(rs.getTimestamp("created_at")),
        rs.getObject("parent_id", UUID.class),
        null,
        null);
  }

  private static Instant instant(Timestamp ts) {
    return ts == null ? null : ts.toInstant();
  }
}
