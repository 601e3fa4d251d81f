package dev.chorus.worker.stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.chorus.model.api.QueryStatus;
import dev.chorus.model.event.QueryEvent;
import dev.chorus.model.stream.RedisKeys;
import dev.chorus.worker.support.WorkerIntegrationTest;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.data.domain.Range;
import org.springframework.data.redis.connection.stream.MapRecord;
import org.springframework.data.redis.connection.stream.RecordId;
import org.springframework.data.redis.core.StringRedisTemplate;
import org.springframework.test.context.TestPropertySource;

/** {@link QueryEventPublisher} against the real Redis of the local stack (db 1, own key prefix). */
@WorkerIntegrationTest
@TestPropertySource(
    properties = {
      "chorus.stream.max-length=" + QueryEventPublisherIT.MAX_LENGTH,
      "chorus.stream.retain-after-completion=90s",
      "chorus.stream.live-length=" + QueryEventPublisherIT.LIVE_LENGTH
    })
class QueryEventPublisherIT {
  static final int MAX_LENGTH = 10;
  static final int LIVE_LENGTH = 100;

  @Autowired QueryEventPublisher publisher;
  @Autowired StringRedisTemplate redis;
  @Autowired ObjectMapper json;
  @Autowired StreamProperties properties;

  private RedisKeys keys;
  private UUID queryId;
  private UUID conversationId;

  @BeforeEach
  void setUp() {
    // Never touch keys of a running stack.
    assertThat(properties.keyPrefix()).startsWith("test-").hasSizeGreaterThan(20);
    assertThat(properties.maxLength()).isEqualTo(MAX_LENGTH);
    keys = new RedisKeys(properties.keyPrefix());
    queryId = UUID.randomUUID();
    conversationId = UUID.randomUUID();
  }

  @AfterEach
  void deleteKeys() {
    Set<String> ours = redis.keys(properties.keyPrefix() + ":*");
    if (ours != null && !ours.isEmpty()) {
      redis.delete(ours);
    }
  }

  @Test
  void eventsAreStreamEntriesOfJsonWithTheTypeFirst() throws Exception {
    var delta = new QueryEvent.Delta(queryId, conversationId, "mock/alpha", 2, 7, "café 🎵 若水");
    var completed = new QueryEvent.QueryCompleted(queryId, conversationId, QueryStatus.PARTIAL);

    RecordId deltaId = publisher.publish(delta);
    RecordId completedId = publisher.publish(completed);

    List<MapRecord<String, Object, Object>> entries =
        redis.opsForStream().range(keys.queryStream(queryId), Range.unbounded());
    assertThat(entries).extracting(MapRecord::getId).containsExactly(deltaId, completedId);
    assertThat(entries).allSatisfy(e -> assertThat(e.getValue()).containsOnlyKeys("e"));

    String deltaJson = (String) entries.get(0).getValue().get(RedisKeys.EVENT_FIELD);
    assertThat(deltaJson).startsWith("{\"type\":\"delta\"");
    JsonNode node = json.readTree(deltaJson);
    assertThat(node.get("queryId").asText()).isEqualTo(queryId.toString());
    assertThat(node.get("conversationId").asText()).isEqualTo(conversationId.toString());
    assertThat(node.get("agent").asText()).isEqualTo("mock/alpha");
    assertThat(node.get("attempt").asInt()).isEqualTo(2);
    assertThat(node.get("seq").asLong()).isEqualTo(7);
    assertThat(node.get("text").asText()).isEqualTo("café 🎵 若水");
    // The emit time lets benchmarks measure relay latency below the stream id's millisecond.
    assertThat(node.get("emittedAtMicros").asLong())
        .isCloseTo(System.currentTimeMillis() * 1000, within(10_000_000L));
    assertThat(json.readValue(deltaJson, QueryEvent.class)).isEqualTo(delta);

    String completedJson = (String) entries.get(1).getValue().get(RedisKeys.EVENT_FIELD);
    assertThat(completedJson).startsWith("{\"type\":\"query_completed\"");
    assertThat(json.readTree(completedJson).get("status").asText()).isEqualTo("PARTIAL");
    assertThat(json.readValue(completedJson, QueryEvent.class)).isEqualTo(completed);
  }

  @Test
  void maxLengthKeepsTheStreamBounded() {
    int published = 1_000;
    for (int seq = 0; seq < published; seq++) {
      publisher.publish(
          new QueryEvent.Delta(queryId, conversationId, "mock/alpha", 1, seq, "token " + seq));
    }

    Long length = redis.opsForStream().size(keys.queryStream(queryId));
    // MAXLEN ~ trims whole macro nodes (100 entries by default), so a bit more than the cap stays.
    assertThat(length).isGreaterThanOrEqualTo((long) MAX_LENGTH).isLessThan(published / 4L);
    // What is kept is the newest.
    List<MapRecord<String, Object, Object>> last =
        redis.opsForStream().reverseRange(keys.queryStream(queryId), Range.unbounded());
    assertThat((String) last.getFirst().getValue().get(RedisKeys.EVENT_FIELD))
        .contains("\"seq\":" + (published - 1));
  }

  @Test
  void eventsOfAnAttemptThatANewerAttemptSupersededAreNotAdded() {
    // Found by the fault suite: an attempt Temporal had already timed out kept streaming for a
    // moment after the next attempt's response_retrying, and clients glued its deltas in.
    var first = new QueryEvent.Delta(queryId, conversationId, "alto", 1, 0, "Once");
    var retrying =
        new QueryEvent.ResponseRetrying(queryId, conversationId, "alto", 2, "timeout", 4);
    var stale = new QueryEvent.Delta(queryId, conversationId, "alto", 1, 1, " stale");
    var staleStart =
        new QueryEvent.ResponseStarted(queryId, conversationId, "alto", 1, "mock", "m");
    var next = new QueryEvent.Delta(queryId, conversationId, "alto", 2, 0, " upon");
    var otherAgent = new QueryEvent.Delta(queryId, conversationId, "bass", 1, 0, "Hi");

    assertThat(publisher.publish(first)).isNotNull();
    assertThat(publisher.publish(retrying)).isNotNull();
    assertThat(publisher.publish(stale)).isNull();
    assertThat(publisher.publish(staleStart)).isNull();
    assertThat(publisher.publish(next)).isNotNull();
    assertThat(publisher.publish(otherAgent)).as("each agent has its own fence").isNotNull();

    List<QueryEvent> stored =
        redis.opsForStream().range(keys.queryStream(queryId), Range.unbounded()).stream()
            .map(e -> read((String) e.getValue().get(RedisKeys.EVENT_FIELD)))
            .toList();
    assertThat(stored).containsExactly(first, retrying, next, otherAgent);

    publisher.expireLater(queryId);
    assertThat(redis.getExpire(keys.queryAttempts(queryId), TimeUnit.SECONDS)).isBetween(80L, 90L);
  }

  private QueryEvent read(String eventJson) {
    try {
      return json.readValue(eventJson, QueryEvent.class);
    } catch (java.io.IOException e) {
      throw new IllegalStateException(e);
    }
  }

  @Test
  void everyWrittenEventIsCopiedToTheLiveFeedWithItsQueryStreamIdAndNoSupersededOne() {
    UUID otherQuery = UUID.randomUUID();
    RecordId started =
        publisher.publish(
            new QueryEvent.ResponseStarted(queryId, conversationId, "a", 2, "mock", "m"));
    RecordId other =
        publisher.publish(
            new QueryEvent.QueryCompleted(otherQuery, conversationId, QueryStatus.COMPLETED));
    // Superseded by attempt 2: written nowhere, the feed included.
    assertThat(publisher.publish(new QueryEvent.Delta(queryId, conversationId, "a", 1, 0, "x")))
        .isNull();
    RecordId delta =
        publisher.publish(new QueryEvent.Delta(queryId, conversationId, "a", 2, 0, "hi"));

    List<MapRecord<String, Object, Object>> feed =
        redis.opsForStream().range(keys.liveFeed(), Range.unbounded());
    assertThat(feed)
        .extracting(e -> e.getValue().get(RedisKeys.LIVE_ID_FIELD))
        .containsExactly(started.getValue(), other.getValue(), delta.getValue());
    assertThat(feed)
        .extracting(e -> e.getValue().get(RedisKeys.LIVE_QUERY_FIELD))
        .containsExactly(queryId.toString(), otherQuery.toString(), queryId.toString());
    assertThat(feed)
        .allSatisfy(e ->
            assertThat(e.getValue().get(RedisKeys.LIVE_CONVERSATION_FIELD))
                .isEqualTo(conversationId.toString()));
    // The same JSON as the query stream's entry.
    assertThat(feed.getLast().getValue().get(RedisKeys.EVENT_FIELD))
        .isEqualTo(
            redis
                .opsForStream()
                .range(keys.queryStream(queryId), Range.unbounded())
                .getLast()
                .getValue()
                .get(RedisKeys.EVENT_FIELD));
  }

  @Test
  void theLiveFeedIsCappedAtItsLength() {
    for (int i = 0; i < 20 * LIVE_LENGTH; i++) {
      publisher.publish(new QueryEvent.Delta(queryId, conversationId, "a", 1, i, "t" + i));
    }

    // Approximate trimming (MAXLEN ~) keeps whole radix-tree nodes of up to 100 entries.
    assertThat(redis.opsForStream().size(keys.liveFeed())).isLessThan(20L * LIVE_LENGTH);
    assertThat(redis.opsForStream().size(keys.liveFeed())).isGreaterThanOrEqualTo(LIVE_LENGTH);
  }

  @Test
  void expireLaterSetsTheRetentionTtlOnTheQueryStream() {
    publisher.publish(
        new QueryEvent.QueryCompleted(queryId, conversationId, QueryStatus.COMPLETED));
    String key = keys.queryStream(queryId);
    assertThat(redis.getExpire(key, TimeUnit.SECONDS)).isEqualTo(-1L);

    publisher.expireLater(queryId);

    assertThat(redis.getExpire(key, TimeUnit.SECONDS)).isBetween(80L, 90L);
  }

  @Test
  void theFirstEventOfAQuerySetsABackstopExpiry() {
    publisher.publish(
        new QueryEvent.MessageCreated(
            queryId,
            conversationId,
            new dev.chorus.model.api.MessageView(
                UUID.randomUUID(),
                conversationId,
                dev.chorus.model.api.MessageRole.USER,
                "hi",
                null,
                null,
                java.time.Instant.now())));
    long ttl = redis.getExpire(keys.queryStream(queryId), TimeUnit.SECONDS);
    assertThat(ttl).isGreaterThan(properties.retainAfterCompletion().toSeconds());
    assertThat(ttl).isLessThanOrEqualTo(properties.maxLifetime().toSeconds());
  }
}
