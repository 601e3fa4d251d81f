package dev.chorus.worker.ranking;

import dev.chorus.model.api.AnswerSummary;
import dev.chorus.model.api.RankEntry;
import dev.chorus.model.workflow.RankingResult;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * The built-in, model-free way to summarize and rank answers. Deterministic: the same prompt and
 * answers give the same result, whatever their order; equal scores are ordered by agent name.
 *
 * <ul>
 *   <li>relevance: the share of the prompt's content words the answer uses;
 *   <li>agreement: the mean Jaccard similarity of the answer's content words with each other
 *       answer's;
 *   <li>completeness: the answer's length relative to the longest answer, full from {@value
 *       #COMPLETE_AT} of it on, halved when the provider cut the answer off;
 *   <li>latency and cost: the fastest and the cheapest get 1, the others the ratio to them.
 * </ul>
 */
final class BuiltinRanker {
  /** An answer at least this share of the longest one is complete. */
  static final double COMPLETE_AT = 0.6;

  /** A cut-off answer keeps this share of its completeness. */
  static final double TRUNCATED_FACTOR = 0.5;

  /** Keeps latency ratios sane near zero: 100 ms more or less hardly matters. */
  static final double LATENCY_SLACK_MS = 100;

  /** Keeps cost ratios sane near zero: a hundredth of a cent more or less hardly matters. */
  static final double COST_SLACK_USD = 0.0001;

  /** Score and metrics are rounded so that what is stored and shown is exactly what was ranked. */
  private static final double PRECISION = 10_000;

  private final RankingProperties.Weights weights;

  BuiltinRanker(RankingProperties.Weights weights) {
    this.weights = weights;
  }

  /** Summaries and ranking by the built-in method; empty when there is no answer. */
  Ranking rank(String prompt, List<Answer> answers) {
    if (answers.isEmpty()) {
      return Ranking.empty();
    }
    List<RankEntry> ranking = order(metrics(prompt, answers));
    Map<String, Answer> byAgent = byAgent(answers);
    List<AnswerSummary> summaries = new ArrayList<>();
    for (RankEntry entry : ranking) {
      String content = byAgent.get(entry.agent()).content();
      summaries.add(
          new AnswerSummary(
              entry.agent(),
              TextDigest.summary(content),
              reason(entry, ranking, byAgent.get(entry.agent()).truncated()),
              TextDigest.keyPoints(content)));
    }
    return new Ranking(RankingResult.BUILTIN, summaries, ranking);
  }

  /** Every metric of every answer, by agent. */
  static Map<String, Map<String, Double>> metrics(String prompt, List<Answer> given) {
    // One order, whatever the caller's: floating-point sums then come out bit for bit the same.
    List<Answer> answers = given.stream().sorted(Comparator.comparing(Answer::agent)).toList();
    Set<String> promptTerms = TextDigest.terms(prompt);
    List<Set<String>> terms = answers.stream().map(a -> TextDigest.terms(a.content())).toList();
    int longest = answers.stream().mapToInt(a -> TextDigest.length(a.content())).max().orElse(0);
    double fastest =
        answers.stream()
            .filter(a -> a.latencyMs() != null)
            .mapToDouble(a -> Math.max(0, a.latencyMs()))
            .min()
            .orElse(0);
    double slowest =
        answers.stream()
            .filter(a -> a.latencyMs() != null)
            .mapToDouble(a -> Math.max(0, a.latencyMs()))
            .max()
            .orElse(0);
    double cheapest = answers.stream().mapToDouble(BuiltinRanker::dollars).min().orElse(0);

    Map<String, Map<String, Double>> out = new LinkedHashMap<>();
    for (int i = 0; i < answers.size(); i++) {
      Answer answer = answers.get(i);
      Map<String, Double> m = new LinkedHashMap<>();
      m.put(RankEntry.RELEVANCE, relevance(promptTerms, terms.get(i)));
      m.put(RankEntry.AGREEMENT, agreement(terms, i));
      m.put(RankEntry.COMPLETENESS, completeness(answer, longest));
      double latency = answer.latencyMs() == null ? slowest : Math.max(0, answer.latencyMs());
      m.put(RankEntry.LATENCY, (fastest + LATENCY_SLACK_MS) / (latency + LATENCY_SLACK_MS));
      m.put(RankEntry.COST, (cheapest + COST_SLACK_USD) / (dollars(answer) + COST_SLACK_USD));
      out.put(answer.agent(), m);
    }
    return out;
  }

  /**
   * Ranks answers by the weighted mean of their metrics, best first; equal scores by agent name.
   */
  List<RankEntry> order(Map<String, Map<String, Double>> metrics) {
    double total = RankEntry.METRICS.stream().mapToDouble(weights::of).sum();
    record Scored(String agent, double score, Map<String, Double> metrics) {}
    List<Scored> scored = new ArrayList<>();
    metrics.forEach((agent, values) -> {
      Map<String, Double> rounded = new LinkedHashMap<>();
      double sum = 0;
      for (String metric : RankEntry.METRICS) {
        double value = round(clamp(values.getOrDefault(metric, 0.0)));
        rounded.put(metric, value);
        sum += weights.of(metric) * value;
      }
      scored.add(new Scored(agent, round(clamp(sum / total)), rounded));
    });
    scored.sort(Comparator.comparingDouble(Scored::score).reversed().thenComparing(Scored::agent));
    List<RankEntry> out = new ArrayList<>();
    for (int i = 0; i < scored.size(); i++) {
      Scored s = scored.get(i);
      out.add(new RankEntry(s.agent(), i + 1, s.score(), s.metrics()));
    }
    return out;
  }

  /**
   * One line of at most {@value AnswerSummary#MAX_REASONING_WORDS} words on why an answer ranks
   * where it does: the metrics it leads and those it trails.
   */
  static String reason(RankEntry entry, List<RankEntry> ranking, boolean truncated) {
    // First, so that the word limit never drops it.
    String cut = truncated ? ", cut off at the length limit" : "";
    if (ranking.size() == 1) {
      return TextDigest.limitWords(
          "The only completed answer" + cut + ".", AnswerSummary.MAX_REASONING_WORDS);
    }
    List<String> best = new ArrayList<>();
    List<String> worst = new ArrayList<>();
    for (String metric : RankEntry.METRICS) {
      double value = entry.metrics().get(metric);
      double max = ranking.stream().mapToDouble(e -> e.metrics().get(metric)).max().orElse(0);
      double min = ranking.stream().mapToDouble(e -> e.metrics().get(metric)).min().orElse(0);
      if (max == min) {
        continue;
      }
      if (value == max) {
        best.add(BEST.get(metric));
      } else if (value == min) {
        worst.add(WORST.get(metric));
      }
    }
    StringBuilder line =
        new StringBuilder("Rank ")
            .append(entry.rank())
            .append(" of ")
            .append(ranking.size())
            .append(cut)
            .append(": ");
    if (best.isEmpty() && worst.isEmpty()) {
      line.append("between the others on every metric");
    } else {
      line.append(String.join(", ", best));
      if (!worst.isEmpty()) {
        line.append(best.isEmpty() ? "" : "; but ").append(String.join(", ", worst));
      }
    }
    line.append('.');
    return TextDigest.limitWords(line.toString(), AnswerSummary.MAX_REASONING_WORDS);
  }

  private static final Map<String, String> BEST =
      Map.of(
          RankEntry.RELEVANCE, "most relevant",
          RankEntry.AGREEMENT, "closest to the others",
          RankEntry.COMPLETENESS, "most complete",
          RankEntry.LATENCY, "fastest",
          RankEntry.COST, "cheapest");

  private static final Map<String, String> WORST =
      Map.of(
          RankEntry.RELEVANCE, "least relevant",
          RankEntry.AGREEMENT, "furthest from the others",
          RankEntry.COMPLETENESS, "least complete",
          RankEntry.LATENCY, "slowest",
          RankEntry.COST, "most expensive");

  static Map<String, Answer> byAgent(List<Answer> answers) {
    return answers.stream()
        .collect(Collectors.toMap(Answer::agent, Function.identity(), (a, b) -> a));
  }

  private static double relevance(Set<String> prompt, Set<String> answer) {
    if (answer.isEmpty()) {
      return 0;
    }
    if (prompt.isEmpty()) {
      // Nothing to match ("hi", "?"): every non-empty answer is as relevant as the next.
      return 0.5;
    }
    return (double) intersection(prompt, answer) / prompt.size();
  }

  private static double agreement(List<Set<String>> terms, int i) {
    if (terms.size() < 2) {
      // Nothing to disagree with.
      return 1;
    }
    double sum = 0;
    for (int j = 0; j < terms.size(); j++) {
      if (j != i) {
        sum += jaccard(terms.get(i), terms.get(j));
      }
    }
    return sum / (terms.size() - 1);
  }

  static double jaccard(Set<String> a, Set<String> b) {
    if (a.isEmpty() && b.isEmpty()) {
      return 0;
    }
    int common = intersection(a, b);
    return (double) common / (a.size() + b.size() - common);
  }

  private static double completeness(Answer answer, int longest) {
    int length = TextDigest.length(answer.content());
    if (length == 0 || longest == 0) {
      return 0;
    }
    double c = Math.min(1, (double) length / longest / COMPLETE_AT);
    return answer.truncated() ? c * TRUNCATED_FACTOR : c;
  }

  private static int intersection(Set<String> a, Set<String> b) {
    Set<String> small = a.size() <= b.size() ? a : b;
    Set<String> large = small == a ? b : a;
    Set<String> common = new HashSet<>(small);
    common.retainAll(large);
    return common.size();
  }

  private static double dollars(Answer answer) {
    BigDecimal cost = answer.costUsd();
    return cost == null ? 0 : Math.max(0, cost.doubleValue());
  }

  private static double clamp(double v) {
    return Double.isNaN(v) ? 0 : Math.max(0, Math.min(1, v));
  }

  static double round(double v) {
    return Math.round(v * PRECISION) / PRECISION;
  }
}
