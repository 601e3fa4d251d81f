package dev.chorus.model.api;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One answer's place in a query's ranking: {@code rank} 1 is best; {@code score} is the weighted
 * mean of {@code metrics}, every value in 0..1 (higher is better).
 */
public record RankEntry(String agent, int rank, double score, Map<String, Double> metrics) {
  public static final String RELEVANCE = "relevance";
  public static final String AGREEMENT = "agreement";
  public static final String COMPLETENESS = "completeness";
  public static final String LATENCY = "latency";
  public static final String COST = "cost";

  /** Every metric, in the order they are shown. */
  public static final List<String> METRICS =
      List.of(RELEVANCE, AGREEMENT, COMPLETENESS, LATENCY, COST);

  public RankEntry {
    metrics = ordered(metrics);
  }

  /**
   * The metrics in {@link #METRICS} order, then any others by name, so the JSON is the same however
   * the map was built (PostgreSQL's jsonb, for one, reorders keys).
   */
  static Map<String, Double> ordered(Map<String, Double> metrics) {
    if (metrics == null) {
      return Map.of();
    }
    Map<String, Double> out = new LinkedHashMap<>();
    for (String name : METRICS) {
      if (metrics.containsKey(name)) {
        out.put(name, metrics.get(name));
      }
    }
    metrics.keySet().stream()
        .filter(k -> !out.containsKey(k))
        .sorted()
        .forEach(k -> out.put(k, metrics.get(k)));
    return Collections.unmodifiableMap(out);
  }
}
