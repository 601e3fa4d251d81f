package dev.chorus.worker.stream;

import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * @param keyPrefix prefix of every Redis key (api-server must use the same)
 * @param maxLength approximate cap on the entries of one query stream
 * @param retainAfterCompletion how long a finished query's stream stays in Redis for late readers
 */
@ConfigurationProperties("chorus.stream")
public record StreamProperties(
    @DefaultValue("chorus") String keyPrefix,
    @DefaultValue("20000") long maxLength,
    @DefaultValue("15m") Duration retainAfterCompletion) {}
