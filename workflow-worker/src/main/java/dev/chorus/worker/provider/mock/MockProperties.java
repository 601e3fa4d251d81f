package dev.chorus.worker.provider.mock;

import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * The built-in mock provider behaves like a real stream: a pause before the first token, then one
 * token per {@code tokenDelay}.
 */
@ConfigurationProperties("chorus.providers.mock")
public record MockProperties(
    @DefaultValue("250ms") Duration firstTokenDelay,
    @DefaultValue("25ms") Duration tokenDelay,
    @DefaultValue("40") int tokens) {}
