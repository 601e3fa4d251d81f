package dev.chorus.api.stream;

import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * @param keyPrefix prefix of every Redis key (the worker must use the same)
 * @param block how long one multiplexed XREAD waits for new entries
 * @param batch the most entries one XREAD returns
 */
@ConfigurationProperties("chorus.stream")
public record StreamProperties(
    @DefaultValue("chorus") String keyPrefix,
    @DefaultValue("1s") Duration block,
    @DefaultValue("1000") int batch) {}
