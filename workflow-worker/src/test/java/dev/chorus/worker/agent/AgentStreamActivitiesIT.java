package dev.chorus.worker.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.chorus.model.agent.AgentSpec;
import dev.chorus.model.event.QueryEvent;
import dev.chorus.model.stream.RedisKeys;
import dev.chorus.model.workflow.AgentStreamActivities;
import dev.chorus.model.workflow.AgentTask;
import dev.chorus.worker.query.QueryStore;
import dev.chorus.worker.stream.QueryEventPublisher;
import dev.chorus.worker.stream.StreamProperties;
import dev.chorus.worker.support.QueryRows;
import dev.chorus.worker.support.WorkerIntegrationTest;
import io.temporal.activity.ActivityOptions;
import io.temporal.common.RetryOptions;
import io.temporal.failure.ActivityFailure;
import io.temporal.testing.TestActivityEnvironment;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Primary;
import org.springframework.data.domain.Range;
import org.springframework.data.redis.RedisConnectionFailureException;
import org.springframework.data.redis.connection.stream.RecordId;
import org.springframework.data.redis.core.StringRedisTemplate;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * The streaming activity against the real PostgreSQL and Redis, with a Temporal activity context:
 * what it saves for a next attempt must be exactly what clients could have received.
 */
@WorkerIntegrationTest
class AgentStreamActivitiesIT {
  /**
   * The delta whose write to Redis fails (the connection dropped, or the thread was interrupted).
   */
  static final AtomicLong FAIL_AT_SEQ = new AtomicLong(-1);

  /** How long after it was sent the failing write reports its failure. */
  static final AtomicLong FAIL_AFTER_MS = new AtomicLong(0);

  /**
   * The real publisher, except that one delta's write fails without reaching Redis — at once, or
   * only after the writes sent behind it went through (as when a connection drops mid-flight).
   */
  @TestConfiguration
  static class FailingPublisher {
    @Bean
    @Primary
    QueryEventPublisher failingPublisher(
        StringRedisTemplate redis, ObjectMapper json, StreamProperties properties) {
      return new QueryEventPublisher(redis, json, properties) {
        @Override
        public CompletableFuture<RecordId> publishAsync(QueryEvent event) {
          if (event instanceof QueryEvent.Delta d && d.seq() == FAIL_AT_SEQ.get()) {
            var failure =
                new RedisConnectionFailureException("injected: the write never reached Redis");
            Executor reports =
                FAIL_AFTER_MS.get() == 0
                    ? Runnable::run
                    : CompletableFuture.delayedExecutor(FAIL_AFTER_MS.get(), TimeUnit.MILLISECONDS);
            return CompletableFuture.<RecordId>supplyAsync(
                () -> {
                  throw failure;
                },
                reports);
          }
          return super.publishAsync(event);
        }
      };
    }
  }

  @Autowired AgentStreamActivities activities;
  @Autowired QueryStore store;
  @Autowired JdbcClient jdbc;
  @Autowired StringRedisTemplate redis;
  @Autowired ObjectMapper json;
  @Autowired StreamProperties properties;

  private TestActivityEnvironment temporal;
  private QueryRows rows;

  @BeforeEach
  void setUp() {
    temporal = TestActivityEnvironment.newInstance();
    temporal.registerActivitiesImplementations(activities);
    rows = QueryRows.insert(jdbc, "stream-activity", "tell me about durable streams", "RUNNING");
  }

  @AfterEach
  void tearDown() {
    FAIL_AT_SEQ.set(-1);
    FAIL_AFTER_MS.set(0);
    temporal.close();
    rows.delete(jdbc);
  }

  @Test
  void aDeltaThatWasNeverPublishedIsNotInTheCheckpointANextAttemptContinuesFrom() throws Exception {
    FAIL_AT_SEQ.set(7);
    AgentTask task = task("mock-1?tokens=30&tokenDelay=1ms");

    assertThatThrownBy(() -> stub().streamResponse(task)).isInstanceOf(ActivityFailure.class);

    assertCheckpointHoldsExactlyTheDeltasBeforeTheFailedOne(task, 7);
  }

  @Test
  void aWriteThatFailsLateKeepsTheDeltasSentBehindItOutOfTheCheckpoint() throws Exception {
    FAIL_AT_SEQ.set(7);
    FAIL_AFTER_MS.set(200);
    AgentTask task = task("mock-1?tokens=60&tokenDelay=5ms");

    assertThatThrownBy(() -> stub().streamResponse(task)).isInstanceOf(ActivityFailure.class);

    // Deltas 8, 9, ... were in flight behind the failing write and reached Redis (and clients).
    assertThat(publishedDeltas(task)).hasSizeGreaterThan(8);
    assertCheckpointHoldsExactlyTheDeltasBeforeTheFailedOne(task, 7);
  }

  /**
   * resumeFrom of the next attempt is the checkpoint's length: clients keep that much of what they
   * received, so the checkpoint must be a prefix of it, never text they never got — and it keeps
   * every delta confirmed before the failed write.
   */
  private void assertCheckpointHoldsExactlyTheDeltasBeforeTheFailedOne(AgentTask task, int failed)
      throws Exception {
    List<String> deltas = publishedDeltas(task);
    String published = String.join("", deltas);
    String beforeFailed = String.join("", deltas.subList(0, failed));
    assertThat(beforeFailed).isNotEmpty();
    assertThat(published).startsWith(beforeFailed);
    assertThat(store.loadCheckpoint(task)).contains(beforeFailed);
  }

  @Test
  void aCompletedAnswerIsExactlyThePublishedDeltas() throws Exception {
    AgentTask task = task("mock-1?tokens=30&tokenDelay=1ms");

    var outcome = stub().streamResponse(task);

    String content =
        jdbc.sql("SELECT content FROM responses WHERE query_id = :q AND agent = 'a0'")
            .param("q", rows.queryId())
            .query(String.class)
            .single();
    assertThat(content).isEqualTo(publishedText(task)).hasSize(outcome.contentChars());
  }

  private AgentTask task(String model) {
    return new AgentTask(
        rows.queryId(),
        rows.conversationId(),
        rows.messageId(),
        new AgentSpec("mock", model, "a0", null, null, null),
        rows.userId());
  }

  private AgentStreamActivities stub() {
    return temporal.newActivityStub(
        AgentStreamActivities.class,
        ActivityOptions.newBuilder()
            .setStartToCloseTimeout(Duration.ofSeconds(30))
            .setRetryOptions(RetryOptions.newBuilder().setMaximumAttempts(1).build())
            .build());
  }

  /** The delta texts in the query's Redis Stream, in order: what any client assembles. */
  private String publishedText(AgentTask task) throws Exception {
    return String.join("", publishedDeltas(task));
  }

  private List<String> publishedDeltas(AgentTask task) throws Exception {
    var keys = new RedisKeys(properties.keyPrefix());
    List<String> deltas = new ArrayList<>();
    for (var entry :
        redis.opsForStream().range(keys.queryStream(task.queryId()), Range.unbounded())) {
      JsonNode event = json.readTree((String) entry.getValue().get(RedisKeys.EVENT_FIELD));
      if ("delta".equals(event.get("type").asText())) {
        deltas.add(event.get("text").asText());
      }
    }
    return deltas;
  }
}
