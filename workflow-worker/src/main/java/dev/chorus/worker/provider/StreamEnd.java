package dev.chorus.worker.provider;

import dev.chorus.model.agent.Usage;

/**
 * How a stream ended normally: the provider's own usage figures and its finish reason in lower case
 * ({@code stop}, {@code length}, {@code end_turn}, ...), {@code null} when it gave none.
 */
public record StreamEnd(Usage usage, String finishReason) {}
