package dev.chorus.api.ratelimit;

import dev.chorus.api.stream.StreamProperties;
import dev.chorus.model.stream.RedisKeys;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.dao.DataAccessException;
import org.springframework.data.redis.core.StringRedisTemplate;
import org.springframework.data.redis.core.script.RedisScript;
import org.springframework.stereotype.Component;

/**
 * Fixed-window counters in Redis: every api-server instance increments the same key, so a limit
 * holds for a user however many instances serve them. One Lua call increments and sets the expiry
 * atomically, so a crash between the two can never leave a counter that never expires.
 */
@Component
public class RateLimiter {
  /** The count after this hit, and the milliseconds the window still lives. */
  private static final RedisScript<List<Long>> HIT =
      RedisScript.of(
          """
          local n = redis.call('INCRBY', KEYS[1], ARGV[1])
          if redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
          return {n, redis.call('PTTL', KEYS[1])}
          """,
          castList());

  /** What a window looks like after a hit. */
  public record Window(long count, Duration remaining) {}

  private static final Logger log = LoggerFactory.getLogger(RateLimiter.class);
  private final StringRedisTemplate redis;
  private final RedisKeys keys;
  private final Clock clock;

  RateLimiter(StringRedisTemplate redis, StreamProperties stream) {
    this.redis = redis;
    this.keys = new RedisKeys(stream.keyPrefix());
    this.clock = Clock.systemUTC();
  }

  @SuppressWarnings("unchecked")
  private static Class<List<Long>> castList() {
    return (Class<List<Long>>) (Class<?>) List.class;
  }

  /**
   * Counts {@code amount} hits of {@code subject} in the current window of {@code bucket}; with
   * {@code amount} 0 it only reads the window.
   */
  public Window hit(String bucket, String subject, Duration window, long amount) {
    long windowMillis = window.toMillis();
    long index = clock.millis() / windowMillis;
    List<Long> result;
    try {
      result =
          redis.execute(
              HIT,
              List.of(keys.rateWindow(bucket, subject, index)),
              Long.toString(amount),
              Long.toString(windowMillis));
    } catch (DataAccessException e) {
      // Fail open: without Redis nothing is counted, but reads still work (readiness reports
      // Redis DOWN, so the outage is seen where it belongs).
      log.warn("rate limit '{}' not counted: {}", bucket, e.toString());
      return new Window(0, window);
    }
    long ttl = result.get(1) < 0 ? windowMillis : result.get(1);
    return new Window(result.get(0), Duration.ofMillis(ttl));
  }

  /**
   * Counts one hit and throws a 429 when it is over {@code limit} (0 = unlimited) within {@code
   * window}.
   */
  public void acquire(String bucket, String subject, int limit, Duration window, String what) {
    if (limit <= 0) {
      return;
    }
    Window now = hit(bucket, subject, window, 1);
    if (now.count() > limit) {
      throw new RateLimitedException(
          "rate-limited",
          "at most " + limit + " " + what + " per " + describe(window) + "; try again later",
          now.remaining());
    }
  }

  /** Forgets the current window of {@code subject} (a successful login clears its failures). */
  public void reset(String bucket, String subject, Duration window) {
    redis.delete(keys.rateWindow(bucket, subject, clock.millis() / window.toMillis()));
  }

  private static String describe(Duration window) {
    if (window.equals(Duration.ofMinutes(1))) {
      return "minute";
    }
    return window.toMinutes() > 0 ? window.toMinutes() + " minutes" : window.toSeconds() + " s";
  }
}
