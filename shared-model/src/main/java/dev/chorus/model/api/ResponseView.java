package dev.chorus.model.api;

import dev.chorus.model.agent.Usage;
import java.time.Instant;

/** One agent's answer within a query. */
public record ResponseView(
    String agent,
    String provider,
    String model,
    ResponseStatus status,
    int attempt,
    String content,
    Usage usage,
    Long latencyMs,
    String error,
    Instant startedAt,
    Instant completedAt) {}
