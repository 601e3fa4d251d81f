package dev.chorus.worker.stream;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.chorus.model.event.QueryEvent;
import dev.chorus.model.stream.RedisKeys;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.springframework.data.redis.connection.RedisStreamCommands.XAddOptions;
import org.springframework.data.redis.connection.stream.RecordId;
import org.springframework.data.redis.connection.stream.StreamRecords;
import org.springframework.data.redis.core.StringRedisTemplate;
import org.springframework.data.redis.core.script.RedisScript;
import org.springframework.stereotype.Component;

/**
 * The only writer of query event streams. Each event is one stream entry holding its JSON; the
 * entry id is the event id clients see and resume from.
 *
 * <p>An attempt's own events ({@code response_started}, {@code delta}, {@code response_retrying})
 * are fenced: an attempt that Temporal already gave up on (its heartbeats missed the timeout while
 * its JVM stalled, or the Temporal server was away) may still be streaming when the next attempt
 * starts, and its late deltas would land after the new attempt's {@code response_retrying} — a
 * client following the API.md rule would glue them into the answer. One Lua script checks and adds
 * atomically: an event of an attempt older than the newest that published is dropped.
 */
@Component
public class QueryEventPublisher {
  /** How long an attempt fence lives at most if its query never completes (then it expires). */
  static final Duration FENCE_TTL = Duration.ofDays(1);

  /**
   * KEYS: stream, fence hash; ARGV: agent, attempt, payload, max length, fence ttl ms, event field.
   * Returns the entry id, or false when a newer attempt of the agent has published.
   */
  private static final RedisScript<String> FENCED_ADD =
      RedisScript.of(
          """
          local newest = tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '0')
          local attempt = tonumber(ARGV[2])
          if attempt < newest then return false end
          if attempt > newest then redis.call('HSET', KEYS[2], ARGV[1], ARGV[2]) end
          redis.call('PEXPIRE', KEYS[2], ARGV[5])
          return redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[4], '*', ARGV[6], ARGV[3])
          """,
          String.class);

  private final StringRedisTemplate redis;
  private final ObjectMapper json;
  private final RedisKeys keys;
  private final StreamProperties properties;

  public QueryEventPublisher(
      StringRedisTemplate redis, ObjectMapper json, StreamProperties properties) {
    this.redis = redis;
    this.json = json;
    this.properties = properties;
    this.keys = new RedisKeys(properties.keyPrefix());
  }

  /**
   * Adds the event to its query's stream; returns its id, or {@code null} when the event belongs to
   * an attempt that a newer attempt of the same agent has superseded (then nothing is written).
   */
  public RecordId publish(QueryEvent event) {
    String payload;
    try {
      payload = json.writerFor(QueryEvent.class).writeValueAsString(event);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot serialize " + event.getClass().getSimpleName(), e);
    }
    String key = keys.queryStream(event.queryId());
    RecordId id =
        switch (event) {
          case QueryEvent.Delta d -> fenced(d.queryId(), d.agent(), d.attempt(), payload);
          case QueryEvent.ResponseStarted s -> fenced(s.queryId(), s.agent(), s.attempt(), payload);
          case QueryEvent.ResponseRetrying r ->
              fenced(r.queryId(), r.agent(), r.attempt(), payload);
          default -> add(key, Map.of(RedisKeys.EVENT_FIELD, payload));
        };
    if (event instanceof QueryEvent.MessageCreated) {
      // The first event of a query: a stream whose query never finishes still goes away.
      redis.expire(key, properties.maxLifetime());
    }
    return id;
  }

  private RecordId fenced(UUID queryId, String agent, int attempt, String payload) {
    String id =
        redis.execute(
            FENCED_ADD,
            List.of(keys.queryStream(queryId), keys.queryAttempts(queryId)),
            agent,
            Integer.toString(attempt),
            payload,
            Long.toString(properties.maxLength()),
            Long.toString(FENCE_TTL.toMillis()),
            RedisKeys.EVENT_FIELD);
    return id == null ? null : RecordId.of(id);
  }

  /** Tells every api-server relay that a query's stream exists, so it starts reading it. */
  public void announce(UUID queryId, UUID conversationId) {
    add(
        keys.queryAnnouncements(),
        Map.of("queryId", queryId.toString(), "conversationId", conversationId.toString()));
  }

  /** Lets a finished query's stream expire; PostgreSQL stays the record. */
  public void expireLater(UUID queryId) {
    redis.expire(keys.queryStream(queryId), properties.retainAfterCompletion());
    redis.expire(keys.queryAttempts(queryId), properties.retainAfterCompletion());
  }

  private RecordId add(String key, Map<String, String> fields) {
    return redis
        .opsForStream()
        .add(
            StreamRecords.newRecord().in(key).ofMap(fields),
            XAddOptions.maxlen(properties.maxLength()).approximateTrimming(true));
  }
}
