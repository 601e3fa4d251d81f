package dev.chorus.worker.stream;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.chorus.model.event.QueryEvent;
import dev.chorus.model.stream.RedisKeys;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.UUID;
import org.springframework.data.redis.connection.stream.RecordId;
import org.springframework.data.redis.core.StringRedisTemplate;
import org.springframework.data.redis.core.script.RedisScript;
import org.springframework.stereotype.Component;

/**
 * The only writer of query event streams. Each event is one stream entry holding its JSON; the
 * entry id is the event id clients see and resume from. The same script copies the entry to the
 * live feed ({@link RedisKeys#liveFeed}) that every api-server relay reads, so a relay waits on one
 * key whatever the number of queries under way, and one read brings the new events of all of them.
 *
 * <p>An attempt's own events ({@code response_started}, {@code delta}, {@code response_retrying})
 * are fenced: an attempt that Temporal already gave up on (its heartbeats missed the timeout while
 * its JVM stalled, or the Temporal server was away) may still be streaming when the next attempt
 * starts, and its late deltas would land after the new attempt's {@code response_retrying} — a
 * client following the API.md rule would glue them into the answer. The script checks and adds
 * atomically: an event of an attempt older than the newest that published is dropped.
 */
@Component
public class QueryEventPublisher {
  /** How long an attempt fence lives at most if its query never completes (then it expires). */
  static final Duration FENCE_TTL = Duration.ofDays(1);

  /**
   * KEYS: query stream, fence hash, live feed. ARGV: payload, stream max length, event field, feed
   * max length, query id, conversation id, agent (empty: not fenced), attempt, fence ttl ms.
   * Returns the query-stream entry id, or false when a newer attempt of the agent has published.
   */
  private static final RedisScript<String> ADD =
      RedisScript.of(
          """
          if ARGV[7] ~= '' then
            local newest = tonumber(redis.call('HGET', KEYS[2], ARGV[7]) or '0')
            local attempt = tonumber(ARGV[8])
            if attempt < newest then return false end
            if attempt > newest then
              redis.call('HSET', KEYS[2], ARGV[7], ARGV[8])
              redis.call('PEXPIRE', KEYS[2], ARGV[9])
            end
          end
          local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', ARGV[3], ARGV[1])
          redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[4], '*', '%s', ARGV[5], '%s', ARGV[6],
            '%s', id, ARGV[3], ARGV[1])
          return id
          """
              .formatted(
                  RedisKeys.LIVE_QUERY_FIELD,
                  RedisKeys.LIVE_CONVERSATION_FIELD,
                  RedisKeys.LIVE_ID_FIELD),
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
   * Adds the event to its query's stream (and the live feed); returns its id, or {@code null} when
   * the event belongs to an attempt that a newer attempt of the same agent has superseded (then
   * nothing is written).
   */
  public RecordId publish(QueryEvent event) {
    String payload;
    try {
      payload = json.writerFor(QueryEvent.class).writeValueAsString(event);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot serialize " + event.getClass().getSimpleName(), e);
    }
    RecordId id =
        switch (event) {
          case QueryEvent.Delta d -> add(d, d.agent(), d.attempt(), payload);
          case QueryEvent.ResponseStarted s -> add(s, s.agent(), s.attempt(), payload);
          case QueryEvent.ResponseRetrying r -> add(r, r.agent(), r.attempt(), payload);
          default -> add(event, "", 0, payload);
        };
    if (event instanceof QueryEvent.MessageCreated) {
      // The first event of a query: a stream whose query never finishes still goes away.
      redis.expire(keys.queryStream(event.queryId()), properties.maxLifetime());
    }
    return id;
  }

  /** {@code agent} empty: not an attempt's event, never fenced. */
  private RecordId add(QueryEvent event, String agent, int attempt, String payload) {
    String id =
        redis.execute(
            ADD,
            List.of(
                keys.queryStream(event.queryId()),
                keys.queryAttempts(event.queryId()),
                keys.liveFeed()),
            payload,
            Long.toString(properties.maxLength()),
            RedisKeys.EVENT_FIELD,
            Long.toString(properties.liveLength()),
            event.queryId().toString(),
            Objects.toString(event.conversationId(), ""),
            agent,
            Integer.toString(attempt),
            Long.toString(FENCE_TTL.toMillis()));
    return id == null ? null : RecordId.of(id);
  }

  /** Lets a finished query's stream expire; PostgreSQL stays the record. */
  public void expireLater(UUID queryId) {
    redis.expire(keys.queryStream(queryId), properties.retainAfterCompletion());
    redis.expire(keys.queryAttempts(queryId), properties.retainAfterCompletion());
  }
}
