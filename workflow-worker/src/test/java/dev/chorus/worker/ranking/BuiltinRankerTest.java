package dev.chorus.worker.ranking;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.chorus.model.api.AnswerSummary;
import dev.chorus.model.api.RankEntry;
import dev.chorus.model.workflow.RankingResult;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class BuiltinRankerTest {
  static final RankingProperties.Weights DEFAULT_WEIGHTS =
      new RankingProperties.Weights(0.3, 0.25, 0.25, 0.1, 0.1);
  static final String PROMPT = "Why is the sky blue during the day?";

  private final BuiltinRanker ranker = new BuiltinRanker(DEFAULT_WEIGHTS);

  static Answer answer(String agent, String content, long latencyMs, String cost) {
    return new Answer(
        agent, content, latencyMs, cost == null ? null : new BigDecimal(cost), "stop");
  }

  static final Answer GOOD =
      answer(
          "alpha",
          "The sky is blue because air molecules scatter blue sunlight more than red light. "
              + "This Rayleigh scattering is strongest for short wavelengths during the day.",
          1200,
          "0.0004");
  static final Answer SIMILAR =
      answer(
          "beta",
          "During the day the sky looks blue: molecules in the air scatter short blue wavelengths "
              + "of sunlight much more than red ones (Rayleigh scattering).",
          2400,
          "0.0010");
  static final Answer OFF_TOPIC =
      answer("gamma", "Bananas are yellow fruit rich in potassium.", 600, null);

  @Test
  void rankingIsOrderedByScoreWithRanksFromOne() {
    Ranking ranking = ranker.rank(PROMPT, List.of(GOOD, SIMILAR, OFF_TOPIC));

    assertThat(ranking.method()).isEqualTo(RankingResult.BUILTIN);
    assertThat(ranking.ranking()).extracting(RankEntry::rank).containsExactly(1, 2, 3);
    assertThat(ranking.ranking())
        .extracting(RankEntry::score)
        .isSortedAccordingTo((a, b) -> b.compareTo(a));
    assertThat(ranking.ranking().getLast().agent()).isEqualTo("gamma");
    assertThat(ranking.summaries())
        .extracting(AnswerSummary::agent)
        .containsExactlyElementsOf(ranking.ranking().stream().map(RankEntry::agent).toList());
    assertThat(ranking.result().ranking())
        .containsExactlyElementsOf(ranking.ranking().stream().map(RankEntry::agent).toList());
    for (RankEntry e : ranking.ranking()) {
      assertThat(e.metrics().keySet()).containsExactlyElementsOf(RankEntry.METRICS);
      assertThat(e.metrics().values()).allSatisfy(v -> assertThat(v).isBetween(0.0, 1.0));
      assertThat(e.score()).isBetween(0.0, 1.0);
      double weighted =
          RankEntry.METRICS.stream()
              .mapToDouble(m -> DEFAULT_WEIGHTS.of(m) * e.metrics().get(m))
              .sum();
      assertThat(e.score()).isCloseTo(weighted, within(0.0001));
    }
  }

  @Test
  void sameInputsGiveTheSameOutputInAnyOrder() {
    List<Answer> answers = new ArrayList<>(List.of(GOOD, SIMILAR, OFF_TOPIC));
    Ranking first = ranker.rank(PROMPT, answers);
    Random random = new Random(7);
    for (int i = 0; i < 10; i++) {
      Collections.shuffle(answers, random);
      assertThat(new BuiltinRanker(DEFAULT_WEIGHTS).rank(PROMPT, answers)).isEqualTo(first);
    }
  }

  @Test
  void agreementIsHigherForAnswersThatSayTheSame() {
    Map<String, Map<String, Double>> m =
        BuiltinRanker.metrics(PROMPT, List.of(GOOD, SIMILAR, OFF_TOPIC));

    assertThat(m.get("alpha").get(RankEntry.AGREEMENT))
        .isGreaterThan(m.get("gamma").get(RankEntry.AGREEMENT));
    assertThat(m.get("beta").get(RankEntry.AGREEMENT))
        .isGreaterThan(m.get("gamma").get(RankEntry.AGREEMENT));
    assertThat(m.get("gamma").get(RankEntry.AGREEMENT)).isZero();
  }

  @Test
  void relevanceIsTheShareOfThePromptsContentWordsUsed() {
    // Content words of the prompt: sky, blue, day.
    Map<String, Map<String, Double>> m =
        BuiltinRanker.metrics(
            PROMPT,
            List.of(
                answer("all", "Sky blue day.", 100, null),
                answer("two", "The SKY is Blue.", 100, null),
                answer("none", "Bananas.", 100, null)));

    assertThat(m.get("all").get(RankEntry.RELEVANCE)).isEqualTo(1.0);
    assertThat(m.get("two").get(RankEntry.RELEVANCE)).isCloseTo(2.0 / 3, within(1e-9));
    assertThat(m.get("none").get(RankEntry.RELEVANCE)).isZero();
  }

  @Test
  void latencyAndCostGiveOneToTheFastestAndCheapestAndScaleTheOthers() {
    Map<String, Map<String, Double>> m =
        BuiltinRanker.metrics(
            PROMPT,
            List.of(
                answer("fast", "Blue.", 900, "0.0009"),
                answer("slow", "Blue.", 9_900, null),
                answer("mid", "Blue.", 1_900, "0.0049")));

    assertThat(m.get("fast").get(RankEntry.LATENCY)).isEqualTo(1.0);
    assertThat(m.get("mid").get(RankEntry.LATENCY)).isCloseTo(0.5, within(1e-9));
    assertThat(m.get("slow").get(RankEntry.LATENCY)).isCloseTo(0.1, within(1e-9));
    // A null cost counts as free: the cheapest.
    assertThat(m.get("slow").get(RankEntry.COST)).isEqualTo(1.0);
    assertThat(m.get("fast").get(RankEntry.COST)).isCloseTo(0.1, within(1e-9));
    assertThat(m.get("mid").get(RankEntry.COST)).isCloseTo(0.02, within(1e-9));
  }

  @Test
  void completenessSaturatesAndACutOffAnswerLosesHalf() {
    String longest = "word ".repeat(100);
    Map<String, Map<String, Double>> m =
        BuiltinRanker.metrics(
            PROMPT,
            List.of(
                answer("longest", longest, 100, null),
                answer("most", "word ".repeat(70), 100, null),
                answer("short", "word ".repeat(30), 100, null),
                new Answer("cut", longest, 100L, null, "length"),
                answer("empty", "", 100, null)));

    assertThat(m.get("longest").get(RankEntry.COMPLETENESS)).isEqualTo(1.0);
    assertThat(m.get("most").get(RankEntry.COMPLETENESS)).isEqualTo(1.0);
    assertThat(m.get("short").get(RankEntry.COMPLETENESS)).isCloseTo(0.5, within(1e-9));
    assertThat(m.get("cut").get(RankEntry.COMPLETENESS)).isCloseTo(0.5, within(1e-9));
    assertThat(m.get("empty").get(RankEntry.COMPLETENESS)).isZero();
  }

  @Test
  void equalScoresAreOrderedByAgentName() {
    Answer same = answer("x", "The sky is blue because of scattering.", 1000, "0.001");
    List<Answer> answers =
        List.of(
            new Answer("mock/zeta", same.content(), 1000L, same.costUsd(), "stop"),
            new Answer("mock/alpha", same.content(), 1000L, same.costUsd(), "stop"),
            new Answer("mock/beta", same.content(), 1000L, same.costUsd(), "stop"));

    Ranking ranking = ranker.rank(PROMPT, answers);

    assertThat(ranking.ranking())
        .extracting(RankEntry::agent)
        .containsExactly("mock/alpha", "mock/beta", "mock/zeta");
    assertThat(ranking.ranking())
        .extracting(RankEntry::score)
        .containsOnly(ranking.ranking().getFirst().score());
    assertThat(ranking.summaries().getFirst().reasoning())
        .isEqualTo("Rank 1 of 3: between the others on every metric.");
  }

  @Test
  void oneAnswerRanksFirstAndNoAnswerRanksNothing() {
    Ranking one = ranker.rank(PROMPT, List.of(GOOD));

    assertThat(one.ranking()).hasSize(1);
    assertThat(one.ranking().getFirst().rank()).isEqualTo(1);
    assertThat(one.ranking().getFirst().metrics().get(RankEntry.AGREEMENT)).isEqualTo(1.0);
    assertThat(one.summaries().getFirst().reasoning()).isEqualTo("The only completed answer.");
    assertThat(ranker.rank(PROMPT, List.of())).isEqualTo(Ranking.empty());
    assertThat(Ranking.empty().result()).isEqualTo(RankingResult.empty());
  }

  @Test
  void summariesAndReasoningKeepTheirWordLimits() {
    String longAnswer =
        ("Blue light is scattered by the molecules of the atmosphere far more than red light is, "
                    + "which is why the sky is blue. ")
                .repeat(20)
            + "\n\n- point one about scattering\n- point two about wavelengths\n";
    Ranking ranking =
        ranker.rank(
            PROMPT,
            List.of(
                answer("a", longAnswer, 5000, "0.01"),
                answer("b", "Sky blue.", 100, null),
                new Answer("c", "Rayleigh scattering makes the sky blue", 300L, null, "length")));

    for (AnswerSummary s : ranking.summaries()) {
      assertThat(TextDigest.wordCount(s.summary()))
          .isLessThanOrEqualTo(AnswerSummary.MAX_SUMMARY_WORDS);
      assertThat(TextDigest.wordCount(s.reasoning()))
          .isBetween(1, AnswerSummary.MAX_REASONING_WORDS);
      assertThat(s.keyPoints()).hasSizeLessThanOrEqualTo(AnswerSummary.MAX_KEY_POINTS);
    }
    AnswerSummary a = summary(ranking, "a");
    assertThat(a.keyPoints())
        .containsExactly("point one about scattering", "point two about wavelengths");
    assertThat(a.reasoning()).contains("most complete").contains("slowest");
    assertThat(summary(ranking, "c").reasoning()).contains("cut off at the length limit");
  }

  @Test
  void weightsDecideWhatCounts() {
    List<Answer> answers = List.of(GOOD, OFF_TOPIC);
    var onlyLatency = new BuiltinRanker(new RankingProperties.Weights(0, 0, 0, 1, 0));
    var onlyRelevance = new BuiltinRanker(new RankingProperties.Weights(1, 0, 0, 0, 0));

    // gamma answered in 600 ms, alpha in 1200 ms.
    assertThat(onlyLatency.rank(PROMPT, answers).result().ranking())
        .containsExactly("gamma", "alpha");
    assertThat(onlyRelevance.rank(PROMPT, answers).result().ranking())
        .containsExactly("alpha", "gamma");
  }

  private static AnswerSummary summary(Ranking ranking, String agent) {
    return ranking.summaries().stream()
        .filter(s -> s.agent().equals(agent))
        .findFirst()
        .orElseThrow();
  }
}
