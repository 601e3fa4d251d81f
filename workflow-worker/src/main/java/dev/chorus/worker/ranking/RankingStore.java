package dev.chorus.worker.ranking;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import dev.chorus.model.api.AnswerSummary;
import dev.chorus.model.api.RankEntry;
import dev.chorus.model.json.ChorusJson;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Repository;
import org.springframework.transaction.annotation.Transactional;

/** What ranking reads from PostgreSQL, and its idempotent writes (keyed by query and agent). */
@Repository
class RankingStore {
  private static final TypeReference<List<String>> STRINGS = new TypeReference<>() {};
  private static final TypeReference<Map<String, Double>> METRICS = new TypeReference<>() {};

  /** The query's user message: what every answer answers. */
  record Query(UUID conversationId, UUID userId, String prompt) {}

  private final JdbcClient jdbc;

  RankingStore(JdbcClient jdbc) {
    this.jdbc = jdbc;
  }

  Optional<Query> findQuery(UUID queryId) {
    return jdbc.sql(
            """
            SELECT q.conversation_id, q.user_id, m.content FROM queries q
            JOIN messages m ON m.id = q.message_id
            WHERE q.id = :id
            """)
        .param("id", queryId)
        .query((rs, i) ->
            new Query(
                rs.getObject("conversation_id", UUID.class),
                rs.getObject("user_id", UUID.class),
                rs.getString("content")))
        .optional();
  }

  /** The COMPLETED answers among {@code agents}, by agent name. */
  List<Answer> completedAnswers(UUID queryId, List<String> agents) {
    if (agents.isEmpty()) {
      return List.of();
    }
    return jdbc.sql(
            """
            SELECT agent, content, latency_ms, cost_usd, finish_reason FROM responses
            WHERE query_id = :queryId AND status = 'COMPLETED' AND agent IN (:agents)
            ORDER BY agent
            """)
        .param("queryId", queryId)
        .param("agents", List.copyOf(new HashSet<>(agents)))
        .query((rs, i) ->
            new Answer(
                rs.getString("agent"),
                rs.getString("content"),
                rs.getObject("latency_ms", Long.class),
                rs.getBigDecimal("cost_usd"),
                rs.getString("finish_reason")))
        .list();
  }

  /**
   * What an earlier run persisted for exactly these agents, if it did: a retried activity publishes
   * that again rather than asking the judge a second time.
   */
  Optional<Ranking> findRanking(UUID queryId, List<String> agents) {
    List<RankEntry> ranking =
        jdbc.sql(
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
                    read(rs.getString("metrics"), METRICS)))
            .list();
    record Row(AnswerSummary summary, String method) {}
    List<Row> rows =
        jdbc.sql(
                """
                SELECT s.agent, s.summary, s.reasoning, s.key_points, r.method
                FROM response_summaries s
                JOIN query_rankings r ON r.query_id = s.query_id AND r.agent = s.agent
                WHERE s.query_id = :id
                """)
            .param("id", queryId)
            .query((rs, i) ->
                new Row(
                    new AnswerSummary(
                        rs.getString("agent"),
                        rs.getString("summary"),
                        rs.getString("reasoning"),
                        read(rs.getString("key_points"), STRINGS)),
                    rs.getString("method")))
            .list();
    Map<String, AnswerSummary> summaries =
        rows.stream().collect(Collectors.toMap(r -> r.summary().agent(), Row::summary));
    Set<String> methods = rows.stream().map(Row::method).collect(Collectors.toSet());
    Set<String> ranked = ranking.stream().map(RankEntry::agent).collect(Collectors.toSet());
    if (ranking.isEmpty()
        || !ranked.equals(new HashSet<>(agents))
        || !summaries.keySet().equals(ranked)
        || methods.size() != 1) {
      return Optional.empty();
    }
    return Optional.of(
        new Ranking(
            methods.iterator().next(),
            ranking.stream().map(e -> summaries.get(e.agent())).toList(),
            ranking));
  }

  /**
   * Replaces the query's summaries and ranking with {@code ranking}, in one transaction: upserts
   * per agent, and rows of agents no longer ranked are removed.
   */
  @Transactional
  public void save(UUID queryId, Ranking ranking) {
    if (ranking.ranking().isEmpty()) {
      return;
    }
    List<String> agents = ranking.ranking().stream().map(RankEntry::agent).toList();
    for (String table : List.of("response_summaries", "query_rankings")) {
      jdbc.sql("DELETE FROM " + table + " WHERE query_id = :id AND agent NOT IN (:agents)")
          .param("id", queryId)
          .param("agents", agents)
          .update();
    }
    for (AnswerSummary s : ranking.summaries()) {
      jdbc.sql(
              """
              INSERT INTO response_summaries (query_id, agent, summary, reasoning, key_points, method)
              VALUES (:queryId, :agent, :summary, :reasoning, CAST(:keyPoints AS jsonb), :method)
              ON CONFLICT (query_id, agent) DO UPDATE
                SET summary = excluded.summary, reasoning = excluded.reasoning,
                    key_points = excluded.key_points, method = excluded.method, updated_at = now()
              """)
          .param("queryId", queryId)
          .param("agent", s.agent())
          .param("summary", s.summary())
          .param("reasoning", s.reasoning())
          .param("keyPoints", write(s.keyPoints()))
          .param("method", ranking.method())
          .update();
    }
    for (RankEntry e : ranking.ranking()) {
      jdbc.sql(
              """
              INSERT INTO query_rankings (query_id, agent, rank, score, metrics, method)
              VALUES (:queryId, :agent, :rank, :score, CAST(:metrics AS jsonb), :method)
              ON CONFLICT (query_id, agent) DO UPDATE
                SET rank = excluded.rank, score = excluded.score, metrics = excluded.metrics,
                    method = excluded.method, updated_at = now()
              """)
          .param("queryId", queryId)
          .param("agent", e.agent())
          .param("rank", e.rank())
          .param("score", e.score())
          .param("metrics", write(e.metrics()))
          .param("method", ranking.method())
          .update();
    }
  }

  private static <T> T read(String json, TypeReference<T> type) {
    try {
      return ChorusJson.mapper().readValue(json, type);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("stored ranking JSON is not valid", e);
    }
  }

  private static String write(Object value) {
    try {
      return ChorusJson.mapper().writeValueAsString(value);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("cannot write ranking JSON", e);
    }
  }
}
