package dev.chorus.worker.stream;

import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * @param keyPrefix prefix of every Redis key (api-server must use the same)
 * @param maxLength approximate cap on the entries of one query stream
 * @param retainAfterCompletion how long a finished query's stream stays in Redis for late readers
 *     (after that, subscribers get the final state from PostgreSQL)
 * @param maxLifetime a backstop expiry set when a query's stream begins, for a query that never
 *     finishes (its workflow terminated by an operator); longer than any query may run
 * @param liveLength approximate cap on the entries of the live feed that api-server relays read
 *     (see {@code RedisKeys.liveFeed}): how far a relay may fall behind before it has to re-read
 *     the query streams; about 300 bytes of Redis memory each
 */
@ConfigurationProperties("chorus.stream")
public record StreamProperties(
    @DefaultValue("chorus") String keyPrefix,
    @DefaultValue("20000") long maxLength,
    @DefaultValue("15m") Duration retainAfterCompletion,
    @DefaultValue("24h") Duration maxLifetime,
    @DefaultValue("50000") long liveLength) {}
