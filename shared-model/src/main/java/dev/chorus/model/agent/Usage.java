package dev.chorus.model.agent;

import java.math.BigDecimal;

/**
 * Token usage of one response, as reported by the provider (or estimated by the mock), and its cost
 * in US dollars from the worker's price table ({@code null} when the model has no price).
 */
public record Usage(long inputTokens, long outputTokens, BigDecimal costUsd) {
  public static final Usage NONE = new Usage(0, 0);

  public Usage(long inputTokens, long outputTokens) {
    this(inputTokens, outputTokens, null);
  }

  public Usage withCost(BigDecimal cost) {
    return new Usage(inputTokens, outputTokens, cost);
  }
}
