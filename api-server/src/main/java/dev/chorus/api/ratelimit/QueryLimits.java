package dev.chorus.api.ratelimit;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.UUID;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Component;

/**
 * What a user may start: queries per minute (a Redis window shared by every api-server) and a cap
 * on queries PENDING or RUNNING at once. The cap counts the queries table itself, which every
 * instance shares and which the workflow updates when a query ends, so a slot frees itself when its
 * query finishes, fails or is cancelled, with nothing to release and nothing to leak.
 */
@Component
public class QueryLimits {
  static final String BUCKET = "query";
  // First key of the two-int advisory lock: keeps these locks apart from any other use.
  private static final int ADVISORY_LOCK_SPACE = 0x43484f52;
  private static final Duration MINUTE = Duration.ofMinutes(1);
  private static final Duration CONCURRENT_RETRY = Duration.ofSeconds(5);

  private final RateLimiter limiter;
  private final RateLimitProperties properties;
  private final JdbcClient jdbc;
  private final Counter admitted;
  private final Counter overCap;
  private final Counter overRate;

  QueryLimits(
      RateLimiter limiter, RateLimitProperties properties, JdbcClient jdbc, MeterRegistry meters) {
    this.limiter = limiter;
    this.properties = properties;
    this.jdbc = jdbc;
    this.admitted =
        Counter.builder("chorus.queries.admitted")
            .description("Queries accepted by this api-server (before their workflow starts)")
            .register(meters);
    this.overCap = rejected(meters, "concurrent");
    this.overRate = rejected(meters, "per-minute");
  }

  private static Counter rejected(MeterRegistry meters, String limit) {
    return Counter.builder("chorus.queries.rejected")
        .description("Queries refused with 429 by a per-user limit")
        .tag("limit", limit)
        .register(meters);
  }

  /**
   * Called inside the transaction that writes a new query, before the write: throws a 429 {@link
   * RateLimitedException} when {@code userId} is over either limit. A transaction-scoped advisory
   * lock per user makes count-then-insert atomic, so two concurrent sends (on any instances) cannot
   * both take the last slot. An idempotent replay of an earlier query must not call this.
   */
  public void admit(UUID userId) {
    int cap = properties.maxConcurrentQueries();
    if (cap > 0) {
      jdbc.sql("SELECT pg_advisory_xact_lock(:space, hashtext(:user))")
          .param("space", ADVISORY_LOCK_SPACE)
          .param("user", userId.toString())
          .query((rs, i) -> 1)
          .list();
    }
    if (cap > 0 && activeQueries(userId) >= cap) {
      overCap.increment();
      throw new RateLimitedException(
          "too-many-queries",
          "at most "
              + cap
              + " queries may run at once; wait for one to finish or cancel one (POST"
              + " /api/queries/{id}/cancel)",
          CONCURRENT_RETRY);
    }
    try {
      limiter.acquire(BUCKET, userId.toString(), properties.queriesPerMinute(), MINUTE, "queries");
    } catch (RateLimitedException e) {
      overRate.increment();
      throw e;
    }
    admitted.increment();
  }

  long activeQueries(UUID userId) {
    return jdbc.sql(
            """
            SELECT count(*) FROM queries
            WHERE user_id = :user AND status IN ('PENDING', 'RUNNING')
              AND created_at > now() - make_interval(secs => :horizon)
            """)
        .param("user", userId)
        .param("horizon", properties.concurrentQueryHorizon().toSeconds())
        .query(Long.class)
        .single();
  }
}
