package dev.chorus.worker.agent;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * How much conversation an agent is sent: at most {@code maxTurns} earlier turns are read, and they
 * are fitted into {@code maxTokens} (older turns summarized, see {@link ContextWindow}).
 */
@ConfigurationProperties("chorus.context")
public record ContextProperties(
    @DefaultValue("8000") int maxTokens, @DefaultValue("60") int maxTurns) {}
