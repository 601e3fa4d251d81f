package dev.chorus.worker.ranking;

import java.math.BigDecimal;
import java.util.Set;

/**
 * One completed answer as the ranking reads it from PostgreSQL.
 *
 * @param latencyMs {@code null} when unknown (ranks as the slowest)
 * @param costUsd {@code null} when the model has no price (counts as free)
 * @param finishReason the provider's, lower case; {@code length} and {@code max_tokens} mean the
 *     answer was cut off
 */
record Answer(
    String agent, String content, Long latencyMs, BigDecimal costUsd, String finishReason) {
  private static final Set<String> TRUNCATED = Set.of("length", "max_tokens", "max_output_tokens");

  Answer {
    content = content == null ? "" : content;
  }

  boolean truncated() {
    return finishReason != null && TRUNCATED.contains(finishReason);
  }
}
