package dev.chorus.api.stats;

import java.math.BigDecimal;
import java.time.Instant;
import java.time.LocalDate;
import java.util.List;

/**
 * A user's usage over {@code [from, to)}. Deleted conversations count: their tokens were spent.
 *
 * @param conversations conversations created in the range
 * @param messages messages written in the range (user and assistant)
 * @param queries queries asked in the range
 * @param byProvider the responses of those queries per provider
 * @param byDay every UTC day of the range, days without activity included
 */
public record StatsView(
    Instant from,
    Instant to,
    long conversations,
    long messages,
    long userMessages,
    long assistantMessages,
    long queries,
    long inputTokens,
    long outputTokens,
    BigDecimal costUsd,
    List<ProviderStats> byProvider,
    List<DayStats> byDay) {

  public record ProviderStats(
      String provider, long responses, long inputTokens, long outputTokens, BigDecimal costUsd) {}

  public record DayStats(
      LocalDate day,
      long conversations,
      long messages,
      long queries,
      long inputTokens,
      long outputTokens,
      BigDecimal costUsd) {}
}
