package dev.chorus.api.ratelimit;

import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * Per-user limits, counted in Redis so that they hold across api-server instances. A value of 0
 * turns that limit off.
 *
 * @param requestsPerMinute authenticated REST requests one user may make per minute
 * @param queriesPerMinute messages (queries) one user may send per minute, REST and WebSocket
 * @param maxConcurrentQueries queries of one user that may be PENDING or RUNNING at once
 * @param concurrentQueryHorizon a PENDING/RUNNING query older than this no longer counts against
 *     the cap (a query the system lost must not lock its user out forever)
 * @param loginFailures failed logins allowed per email within {@code loginWindow}
 * @param loginFailuresPerAddress failed logins allowed per client address within {@code
 *     loginWindow}
 * @param loginWindow how long failed logins are remembered
 */
@ConfigurationProperties("chorus.limits")
public record RateLimitProperties(
    @DefaultValue("600") int requestsPerMinute,
    @DefaultValue("30") int queriesPerMinute,
    @DefaultValue("5") int maxConcurrentQueries,
    @DefaultValue("30m") Duration concurrentQueryHorizon,
    @DefaultValue("5") int loginFailures,
    @DefaultValue("50") int loginFailuresPerAddress,
    @DefaultValue("15m") Duration loginWindow) {}
