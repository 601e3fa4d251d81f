package dev.chorus.worker.ranking;

import dev.chorus.model.api.RankEntry;
import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * How answers are summarized and ranked.
 *
 * @param weights how much each metric counts in an answer's score (a weighted mean, so only their
 *     ratios matter)
 * @param judge the model that summarizes and scores answers; without one, the built-in
 *     deterministic method does
 */
@ConfigurationProperties("chorus.ranking")
public record RankingProperties(@DefaultValue Weights weights, @DefaultValue JudgeSettings judge) {

  public record Weights(
      @DefaultValue("0.3") double relevance,
      @DefaultValue("0.25") double agreement,
      @DefaultValue("0.25") double completeness,
      @DefaultValue("0.1") double latency,
      @DefaultValue("0.1") double cost) {

    public Weights {
      for (double w : new double[] {relevance, agreement, completeness, latency, cost}) {
        if (!(w >= 0) || Double.isInfinite(w)) {
          throw new IllegalArgumentException(
              "chorus.ranking.weights must be finite and not negative");
        }
      }
      if (relevance + agreement + completeness + latency + cost <= 0) {
        throw new IllegalArgumentException("chorus.ranking.weights must not all be zero");
      }
    }

    /** The weight of one of {@link RankEntry#METRICS}. */
    public double of(String metric) {
      return switch (metric) {
        case RankEntry.RELEVANCE -> relevance;
        case RankEntry.AGREEMENT -> agreement;
        case RankEntry.COMPLETENESS -> completeness;
        case RankEntry.LATENCY -> latency;
        case RankEntry.COST -> cost;
        default -> 0;
      };
    }
  }

  /**
   * @param provider a provider this worker serves ({@code openai}, {@code anthropic}, a named
   *     endpoint...); blank for no judge
   * @param model the judge's model at that provider; blank for no judge
   * @param timeout the longest the judge may take before the built-in method is used instead
   * @param maxTokens the judge's output limit
   * @param temperature {@code null} for the provider's default (some reasoning models accept no
   *     other)
   * @param maxAnswerChars how much of each answer the judge reads; the rest is cut, so a long
   *     answer cannot blow the judge's context or bill
   */
  public record JudgeSettings(
      String provider,
      String model,
      @DefaultValue("90s") Duration timeout,
      @DefaultValue("2048") int maxTokens,
      Double temperature,
      @DefaultValue("12000") int maxAnswerChars) {

    public boolean configured() {
      return provider != null && !provider.isBlank() && model != null && !model.isBlank();
    }
  }
}
