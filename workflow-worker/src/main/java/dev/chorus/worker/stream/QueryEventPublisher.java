package dev.chorus.worker.stream;

import static java.nio.charset.StandardCharsets.UTF_8;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.chorus.model.event.QueryEvent;
import dev.chorus.model.stream.RedisKeys;
import io.lettuce.core.RedisCommandInterruptedException;
import io.lettuce.core.RedisCommandTimeoutException;
import io.lettuce.core.RedisException;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.async.RedisAsyncCommands;
import java.time.Duration;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.springframework.data.redis.connection.RedisConnection;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.connection.stream.RecordId;
import org.springframework.data.redis.core.StringRedisTemplate;
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
  private static final byte[] ADD =
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
              RedisKeys.LIVE_ID_FIELD)
          .getBytes(UTF_8);

  private final StringRedisTemplate redis;
  private final LettuceConnectionFactory connections;
  private final ObjectMapper json;
  private final RedisKeys keys;
  private final StreamProperties properties;
  private final Duration commandTimeout;
  private final byte[] maxLength;
  private final byte[] liveLength;
  private final byte[] fenceTtl;
  private final byte[] eventField = RedisKeys.EVENT_FIELD.getBytes(UTF_8);
  private volatile RedisAsyncCommands<byte[], byte[]> commands;

  public QueryEventPublisher(
      StringRedisTemplate redis, ObjectMapper json, StreamProperties properties) {
    this.redis = redis;
    this.json = json;
    this.properties = properties;
    this.keys = new RedisKeys(properties.keyPrefix());
    if (!(redis.getRequiredConnectionFactory() instanceof LettuceConnectionFactory lettuce)
        || !lettuce.getShareNativeConnection()) {
      throw new IllegalStateException(
          "query events are published on the shared native connection of Spring Data Redis'"
              + " LettuceConnectionFactory (shareNativeConnection, its default)");
    }
    this.connections = lettuce;
    this.commandTimeout = lettuce.getClientConfiguration().getCommandTimeout();
    this.maxLength = ascii(properties.maxLength());
    this.liveLength = ascii(properties.liveLength());
    this.fenceTtl = ascii(FENCE_TTL.toMillis());
  }

  /** How long a publish may wait for Redis' answer (Spring Data Redis' command timeout). */
  public Duration commandTimeout() {
    return commandTimeout;
  }

  /**
   * Adds the event to its query's stream (and the live feed); returns its id, or {@code null} when
   * the event belongs to an attempt that a newer attempt of the same agent has superseded (then
   * nothing is written).
   */
  public RecordId publish(QueryEvent event) {
    CompletableFuture<RecordId> published = publishAsync(event);
    RecordId id;
    try {
      id = published.get(commandTimeout.toNanos(), TimeUnit.NANOSECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new RedisCommandInterruptedException(e);
    } catch (TimeoutException e) {
      throw new RedisCommandTimeoutException(
          "Redis did not answer within "
              + commandTimeout
              + " ("
              + event.getClass().getSimpleName()
              + ")");
    } catch (ExecutionException e) {
      throw e.getCause() instanceof RuntimeException r ? r : new RedisException(e.getCause());
    }
    if (event instanceof QueryEvent.MessageCreated) {
      // The first event of a query: a stream whose query never finishes still goes away.
      redis.expire(keys.queryStream(event.queryId()), properties.maxLifetime());
    }
    return id;
  }

  /**
   * Sends the event to Redis without waiting for the answer: the future completes with the entry
   * id, or {@code null} when a newer attempt superseded the event's. Events sent one after another
   * from one thread reach Redis in that order (one connection, and Redis runs its commands in the
   * order they arrive), so a stream's deltas can be in flight together; each counts as published
   * only once its future completed.
   */
  public CompletableFuture<RecordId> publishAsync(QueryEvent event) {
    byte[] payload;
    try {
      payload = json.writerFor(QueryEvent.class).writeValueAsBytes(event);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot serialize " + event.getClass().getSimpleName(), e);
    }
    return switch (event) {
      case QueryEvent.Delta d -> add(d, d.agent(), d.attempt(), payload);
      case QueryEvent.ResponseStarted s -> add(s, s.agent(), s.attempt(), payload);
      case QueryEvent.ResponseRetrying r -> add(r, r.agent(), r.attempt(), payload);
      default -> add(event, "", 0, payload);
    };
  }

  /**
   * {@code agent} empty: not an attempt's event, never fenced. EVAL rather than EVALSHA: after a
   * Redis restart EVALSHA fails with NOSCRIPT, and a retry with EVAL could overtake the commands
   * already in flight behind it; Redis caches the compiled script either way.
   */
  private CompletableFuture<RecordId> add(
      QueryEvent event, String agent, int attempt, byte[] payload) {
    RedisFuture<byte[]> added;
    try {
      added =
          commands()
              .eval(
                  ADD,
                  ScriptOutputType.VALUE,
                  new byte[][] {
                    keys.queryStream(event.queryId()).getBytes(UTF_8),
                    keys.queryAttempts(event.queryId()).getBytes(UTF_8),
                    keys.liveFeed().getBytes(UTF_8)
                  },
                  payload,
                  maxLength,
                  eventField,
                  liveLength,
                  event.queryId().toString().getBytes(UTF_8),
                  Objects.toString(event.conversationId(), "").getBytes(UTF_8),
                  agent.getBytes(UTF_8),
                  ascii(attempt),
                  fenceTtl);
    } catch (RuntimeException notSent) {
      commands = null;
      throw notSent;
    }
    return added
        .toCompletableFuture()
        .handle((id, failure) -> {
          if (failure != null) {
            // Spring may have replaced its shared connection: look it up again next time.
            commands = null;
            throw failure instanceof CompletionException c ? c : new CompletionException(failure);
          }
          return id == null ? null : RecordId.of(new String(id, UTF_8));
        });
  }

  /**
   * Spring Data Redis' shared Lettuce connection (its commands are thread-safe): the one every
   * {@code RedisTemplate} call of this process goes through, so the database, credentials and
   * reconnects are Spring's. A stand-alone Redis (or one behind Sentinel): the script's keys are
   * not in one cluster slot.
   */
  @SuppressWarnings("unchecked")
  private RedisAsyncCommands<byte[], byte[]> commands() {
    RedisAsyncCommands<byte[], byte[]> cached = commands;
    if (cached != null) {
      return cached;
    }
    // Closing Spring's connection wrapper leaves the shared native connection open.
    try (RedisConnection connection = connections.getConnection()) {
      if (!(connection.getNativeConnection() instanceof RedisAsyncCommands<?, ?> shared)) {
        throw new IllegalStateException(
            "query events need a stand-alone or Sentinel Redis, not "
                + connection.getNativeConnection().getClass().getSimpleName());
      }
      cached = (RedisAsyncCommands<byte[], byte[]>) shared;
    }
    commands = cached;
    return cached;
  }

  private static byte[] ascii(long value) {
    return Long.toString(value).getBytes(UTF_8);
  }

  /** Lets a finished query's stream expire; PostgreSQL stays the record. */
  public void expireLater(UUID queryId) {
    redis.expire(keys.queryStream(queryId), properties.retainAfterCompletion());
    redis.expire(keys.queryAttempts(queryId), properties.retainAfterCompletion());
  }
}
