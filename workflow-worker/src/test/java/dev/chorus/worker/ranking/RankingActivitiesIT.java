package dev.chorus.worker.ranking;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.chorus.model.api.AnswerSummary;
import dev.chorus.model.api.RankEntry;
import dev.chorus.model.event.QueryEvent;
import dev.chorus.model.stream.RedisKeys;
import dev.chorus.model.workflow.RankingActivities;
import dev.chorus.model.workflow.RankingResult;
import dev.chorus.model.workflow.RankingTask;
import dev.chorus.worker.provider.ProviderRegistry;
import dev.chorus.worker.stream.QueryEventPublisher;
import dev.chorus.worker.stream.StreamProperties;
import dev.chorus.worker.support.QueryRows;
import dev.chorus.worker.support.WorkerIntegrationTest;
import io.temporal.activity.ActivityOptions;
import io.temporal.testing.TestActivityEnvironment;
import java.math.BigDecimal;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.data.domain.Range;
import org.springframework.data.redis.connection.stream.MapRecord;
import org.springframework.data.redis.core.StringRedisTemplate;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * {@link RankingActivitiesImpl} in a Temporal test activity environment, against the real
 * PostgreSQL and Redis of the local stack: a query with three completed answers (and one failed) is
 * ranked by the built-in method, persisted, and published.
 */
@WorkerIntegrationTest
class RankingActivitiesIT {
  static final String PROMPT = "Why is the sky blue?";

  @Autowired RankingActivitiesImpl activities;
  @Autowired JdbcClient jdbc;
  @Autowired StringRedisTemplate redis;
  @Autowired ObjectMapper json;
  @Autowired StreamProperties streams;
  @Autowired RankingStore store;
  @Autowired QueryEventPublisher publisher;

  private TestActivityEnvironment env;
  private RankingActivities stub;
  private UUID userId;
  private UUID conversationId;
  private UUID queryId;

  @BeforeEach
  void setUp() {
    assertThat(streams.keyPrefix()).startsWith("test-");
    env = TestActivityEnvironment.newInstance();
    env.registerActivitiesImplementations(activities);
    stub =
        env.newActivityStub(
            RankingActivities.class,
            ActivityOptions.newBuilder().setStartToCloseTimeout(Duration.ofMinutes(1)).build());
    var rows = QueryRows.insert(jdbc, "ranking-it", PROMPT, "RUNNING");
    userId = rows.userId();
    conversationId = rows.conversationId();
    queryId = rows.queryId();
    completed(
        "mock/alpha",
        "The sky is blue because air molecules scatter blue sunlight far more than red light. "
            + "This is Rayleigh scattering.",
        1_500,
        "0.0004",
        "stop");
    completed(
        "mock/beta",
        "- Rayleigh scattering: air molecules scatter short, blue wavelengths of sunlight most\n"
            + "- our eyes are more sensitive to blue than to violet\n",
        3_000,
        null,
        "stop");
    completed("critic", "Bananas are yellow.", 500, "0.0100", "length");
    jdbc.sql(
            """
            INSERT INTO responses (query_id, agent, provider, model, status, error)
            VALUES (:q, 'mock/failed', 'mock', 'failed', 'FAILED', 'ProviderUnavailable: down')
            """)
        .param("q", queryId)
        .update();
  }

  @AfterEach
  void tearDown() {
    env.close();
    // Cascades to conversations, messages, queries, responses, summaries and rankings.
    jdbc.sql("DELETE FROM users WHERE id = :id").param("id", userId).update();
    Set<String> ours = redis.keys(streams.keyPrefix() + ":*");
    if (ours != null && !ours.isEmpty()) {
      redis.delete(ours);
    }
  }

  @Test
  void ranksPersistsAndPublishesTheCompletedAnswers() throws Exception {
    RankingTask task =
        new RankingTask(
            queryId,
            conversationId,
            userId,
            List.of("mock/alpha", "mock/beta", "critic", "mock/failed"));

    RankingResult result = stub.rankAnswers(task);

    assertThat(result.method()).isEqualTo(RankingResult.BUILTIN);
    assertThat(result.ranking()).containsExactlyInAnyOrder("mock/alpha", "mock/beta", "critic");
    assertThat(result.ranking().getLast()).isEqualTo("critic");

    List<Map<String, Object>> rankings =
        jdbc.sql("SELECT * FROM query_rankings WHERE query_id = :q ORDER BY rank")
            .param("q", queryId)
            .query()
            .listOfRows();
    assertThat(rankings)
        .extracting(r -> r.get("agent"))
        .containsExactlyElementsOf(result.ranking());
    assertThat(rankings).extracting(r -> r.get("rank")).containsExactly(1, 2, 3);
    assertThat(rankings).allSatisfy(r -> assertThat(r.get("method")).isEqualTo("builtin"));
    JsonNode metrics = json.readTree(rankings.getFirst().get("metrics").toString());
    assertThat(names(metrics)).containsExactlyInAnyOrderElementsOf(RankEntry.METRICS);
    // critic was the fastest, and has nothing to do with the question.
    JsonNode critic = json.readTree(rankings.getLast().get("metrics").toString());
    assertThat(critic.get("latency").asDouble()).isEqualTo(1.0);
    assertThat(critic.get("relevance").asDouble()).isEqualTo(0.0);

    List<Map<String, Object>> summaries =
        jdbc.sql("SELECT * FROM response_summaries WHERE query_id = :q ORDER BY agent")
            .param("q", queryId)
            .query()
            .listOfRows();
    assertThat(summaries)
        .extracting(r -> r.get("agent"))
        .containsExactly("critic", "mock/alpha", "mock/beta");
    Map<String, Object> beta = summaries.get(2);
    assertThat(
            json.readValue(beta.get("key_points").toString(), new TypeReference<List<String>>() {}))
        .containsExactly(
            "Rayleigh scattering: air molecules scatter short, blue wavelengths of sunlight most",
            "our eyes are more sensitive to blue than to violet");
    assertThat(summaries.getFirst().get("reasoning").toString())
        .startsWith("Rank 3 of 3, cut off at the length limit:");

    List<QueryEvent> events = events();
    assertThat(events).hasSize(4);
    assertThat(events.subList(0, 3))
        .allSatisfy(e -> assertThat(e).isInstanceOf(QueryEvent.Summary.class))
        .extracting(e -> ((QueryEvent.Summary) e).agent())
        .containsExactlyElementsOf(result.ranking());
    QueryEvent.Summary first = (QueryEvent.Summary) events.getFirst();
    assertThat(first.queryId()).isEqualTo(queryId);
    assertThat(first.conversationId()).isEqualTo(conversationId);
    assertThat(TextDigest.wordCount(first.summary())).isBetween(1, AnswerSummary.MAX_SUMMARY_WORDS);
    QueryEvent.Ranking ranking = (QueryEvent.Ranking) events.getLast();
    assertThat(ranking.ranking())
        .extracting(RankEntry::agent)
        .containsExactlyElementsOf(result.ranking());
    assertThat(ranking.ranking().getFirst().metrics().keySet())
        .containsExactlyElementsOf(RankEntry.METRICS);
    assertThat(ranking.ranking())
        .allSatisfy(e ->
            assertThat(e.score())
                .isEqualTo(((Number) rankings.get(e.rank() - 1).get("score")).doubleValue()));
    String rankingJson = rawEvents().getLast();
    assertThat(rankingJson).startsWith("{\"type\":\"ranking\"");
    assertThat(names(json.readTree(rankingJson).get("ranking").get(0).get("metrics")))
        .containsExactlyElementsOf(RankEntry.METRICS);
    assertThat(rawEvents().getFirst()).startsWith("{\"type\":\"summary\"");
  }

  @Test
  void aSecondRunLeavesTheSameRowsAndPublishesTheSameEvents() {
    RankingTask task =
        new RankingTask(
            queryId, conversationId, userId, List.of("mock/alpha", "mock/beta", "critic"));

    RankingResult first = stub.rankAnswers(task);
    List<Map<String, Object>> rowsAfterFirst = rows();
    List<String> firstEvents = rawEvents();
    RankingResult second = stub.rankAnswers(task);

    assertThat(second).isEqualTo(first);
    assertThat(rows()).isEqualTo(rowsAfterFirst);
    List<String> all = rawEvents();
    assertThat(all).hasSize(8);
    assertThat(all.subList(4, 8)).isEqualTo(firstEvents);
  }

  @Test
  void rankingFewerAgentsReplacesTheEarlierRanking() {
    stub.rankAnswers(
        new RankingTask(
            queryId, conversationId, userId, List.of("mock/alpha", "mock/beta", "critic")));

    RankingResult one =
        stub.rankAnswers(new RankingTask(queryId, conversationId, userId, List.of("mock/beta")));

    assertThat(one).isEqualTo(new RankingResult(List.of("mock/beta"), RankingResult.BUILTIN));
    assertThat(rows())
        .singleElement()
        .satisfies(r -> assertThat(r).containsEntry("agent", "mock/beta").containsEntry("rank", 1));
    assertThat(
            jdbc.sql("SELECT count(*) FROM response_summaries WHERE query_id = :q")
                .param("q", queryId)
                .query(Long.class)
                .single())
        .isEqualTo(1L);
  }

  @Test
  void withoutAJudgeTheLocalRankingRanksPersistsAndPublishesLikeTheActivity() {
    RankingTask task =
        new RankingTask(queryId, conversationId, userId, List.of("mock/alpha", "mock/beta"));

    RankingResult local = stub.rankWithoutJudge(task);

    assertThat(local.method()).isEqualTo(RankingResult.BUILTIN);
    assertThat(local.ranking()).containsExactlyInAnyOrder("mock/alpha", "mock/beta");
    assertThat(rows()).hasSize(2);
    List<String> published = rawEvents();
    assertThat(published).hasSize(3); // a summary per answer, then the ranking
    // The activity finds the saved ranking and publishes the same events again.
    assertThat(stub.rankAnswers(task)).isEqualTo(local);
    assertThat(rawEvents().subList(3, 6)).isEqualTo(published);
  }

  @Test
  void withAJudgeTheLocalRankingLeavesTheRankingToTheActivity() {
    var settings =
        new RankingProperties.JudgeSettings(
            "openai", "judge-1", Duration.ofSeconds(5), 512, 0.0, 50);
    var judge =
        new Judge(
            settings,
            new ProviderRegistry(List.of(), List.of()),
            (provider, task) -> provider.serverEndpoint().orElseThrow());
    var guards = new JudgeGuards();
    var judged =
        new RankingActivitiesImpl(
            store,
            new Ranker(
                new RankingProperties(BuiltinRankerTest.DEFAULT_WEIGHTS, settings), judge, guards),
            publisher);

    RankingResult result;
    try {
      result =
          judged.rankWithoutJudge(
              new RankingTask(queryId, conversationId, userId, List.of("mock/alpha")));
    } finally {
      guards.destroy();
    }

    assertThat(result).isNull();
    assertThat(rows()).isEmpty();
    assertThat(rawEvents()).isEmpty();
  }

  @Test
  void withoutCompletedAnswersThereIsNothingToRank() {
    RankingResult result =
        stub.rankAnswers(
            new RankingTask(queryId, conversationId, userId, List.of("mock/failed", "unknown")));

    assertThat(result).isEqualTo(RankingResult.empty());
    assertThat(rows()).isEmpty();
    assertThat(rawEvents()).isEmpty();
  }

  // --- fixtures -------------------------------------------------------------------------------

  private void completed(
      String agent, String content, long latencyMs, String cost, String finishReason) {
    jdbc.sql(
            """
            INSERT INTO responses (query_id, agent, provider, model, status, attempt, content,
                                   latency_ms, cost_usd, finish_reason, started_at, completed_at)
            VALUES (:q, :agent, 'mock', :agent, 'COMPLETED', 1, :content, :latency, :cost,
                    :finishReason, now(), now())
            """)
        .param("q", queryId)
        .param("agent", agent)
        .param("content", content)
        .param("latency", latencyMs)
        .param("cost", cost == null ? null : new BigDecimal(cost))
        .param("finishReason", finishReason)
        .update();
  }

  private List<Map<String, Object>> rows() {
    return jdbc.sql(
            """
            SELECT r.agent, r.rank, r.score, r.metrics::text AS metrics, r.method,
                   s.summary, s.reasoning, s.key_points::text AS key_points
            FROM query_rankings r JOIN response_summaries s USING (query_id, agent)
            WHERE r.query_id = :q ORDER BY r.rank
            """)
        .param("q", queryId)
        .query()
        .listOfRows();
  }

  private List<String> rawEvents() {
    List<MapRecord<String, Object, Object>> entries =
        redis
            .opsForStream()
            .range(new RedisKeys(streams.keyPrefix()).queryStream(queryId), Range.unbounded());
    return entries == null
        ? List.of()
        : entries.stream().map(e -> (String) e.getValue().get(RedisKeys.EVENT_FIELD)).toList();
  }

  private List<QueryEvent> events() throws Exception {
    List<QueryEvent> out = new ArrayList<>();
    for (String raw : rawEvents()) {
      out.add(json.readValue(raw, QueryEvent.class));
    }
    return out;
  }

  private static List<String> names(JsonNode object) {
    List<String> out = new ArrayList<>();
    object.fieldNames().forEachRemaining(out::add);
    return out;
  }
}
