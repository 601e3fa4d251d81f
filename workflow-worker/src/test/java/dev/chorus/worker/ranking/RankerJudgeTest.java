package dev.chorus.worker.ranking;

import static dev.chorus.worker.ranking.BuiltinRankerTest.DEFAULT_WEIGHTS;
import static dev.chorus.worker.ranking.BuiltinRankerTest.GOOD;
import static dev.chorus.worker.ranking.BuiltinRankerTest.OFF_TOPIC;
import static dev.chorus.worker.ranking.BuiltinRankerTest.PROMPT;
import static dev.chorus.worker.ranking.BuiltinRankerTest.SIMILAR;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.chorus.model.agent.ProviderFailureType;
import dev.chorus.model.agent.ProviderKind;
import dev.chorus.model.agent.Usage;
import dev.chorus.model.api.AnswerSummary;
import dev.chorus.model.api.RankEntry;
import dev.chorus.model.workflow.RankingResult;
import dev.chorus.model.workflow.RankingTask;
import dev.chorus.worker.provider.Cancellation;
import dev.chorus.worker.provider.ChatMessage;
import dev.chorus.worker.provider.ChatProvider;
import dev.chorus.worker.provider.ChatRequest;
import dev.chorus.worker.provider.Endpoint;
import dev.chorus.worker.provider.ModelInfo;
import dev.chorus.worker.provider.ProviderFailure;
import dev.chorus.worker.provider.ProviderRegistry;
import dev.chorus.worker.provider.StreamEnd;
import dev.chorus.worker.provider.StreamSink;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The judge path of {@link Ranker}, with a stub provider standing in for the judge model. */
class RankerJudgeTest {
  static final String STUB = "judge-stub";
  static final RankingTask TASK =
      new RankingTask(
          UUID.randomUUID(), UUID.randomUUID(), UUID.randomUUID(), List.of("alpha", "beta"));

  /** A provider that answers every request with a fixed text, in small deltas. */
  static final class StubJudge implements ChatProvider {
    volatile String answer;
    volatile RuntimeException failure;
    volatile boolean hang;
    volatile ChatRequest lastRequest;
    volatile boolean closedByCancellation;
    final CountDownLatch closed = new CountDownLatch(1);

    StubJudge(String answer) {
      this.answer = answer;
    }

    @Override
    public String id() {
      return STUB;
    }

    @Override
    public ProviderKind kind() {
      return ProviderKind.MOCK;
    }

    @Override
    public Optional<Endpoint> serverEndpoint() {
      return Optional.of(new Endpoint("stub://judge", null, false));
    }

    @Override
    public String defaultBaseUrl() {
      return "stub://judge";
    }

    @Override
    public StreamEnd stream(
        Endpoint endpoint, ChatRequest request, StreamSink sink, Cancellation cancellation)
        throws InterruptedException {
      lastRequest = request;
      if (failure != null) {
        throw failure;
      }
      if (hang) {
        cancellation.onCancel(() -> {
          closedByCancellation = true;
          closed.countDown();
        });
        Thread.sleep(Duration.ofMinutes(1));
      }
      for (int i = 0; i < answer.length(); i += 7) {
        sink.onDelta(answer.substring(i, Math.min(answer.length(), i + 7)));
      }
      return new StreamEnd(new Usage(10, 10), "stop");
    }

    @Override
    public List<ModelInfo> listModels(Endpoint endpoint) {
      return List.of();
    }
  }

  private final JudgeGuards guards = new JudgeGuards();

  @AfterEach
  void stopGuards() {
    guards.destroy();
  }

  private Ranker ranker(StubJudge stub, Duration timeout) {
    var settings = new RankingProperties.JudgeSettings(STUB, "judge-1", timeout, 1024, 0.0, 50);
    var properties = new RankingProperties(DEFAULT_WEIGHTS, settings);
    var judge =
        new Judge(
            settings,
            new ProviderRegistry(List.of(stub), List.of()),
            (provider, task) -> provider.serverEndpoint().orElseThrow());
    return new Ranker(properties, judge, guards);
  }

  private static final String VERDICT =
      """
      Here is my verdict:
      ```json
      {"summaries":[
        {"agent":"beta","summary":"Beta explains Rayleigh scattering clearly.",
         "reasoning":"Clear and correct.","keyPoints":["Rayleigh scattering","short wavelengths"]},
        {"agent":"alpha","summary":"Alpha says the sky is blue.","reasoning":"Correct but thin.",
         "keyPoints":[]},
        {"agent":"intruder","summary":"ignored","reasoning":"","keyPoints":[]}
      ],
      "scores":[
        {"agent":"alpha","relevance":0.6,"agreement":0.5,"completeness":0.4},
        {"agent":"beta","relevance":0.9,"agreement":0.5,"completeness":0.95}
      ]}
      ```
      """;

  @Test
  void theJudgesSummariesAndScoresAreUsedWithMeasuredLatencyAndCost() throws Exception {
    StubJudge stub = new StubJudge(VERDICT);

    Ranking ranking =
        ranker(stub, Duration.ofSeconds(5)).rank(TASK, PROMPT, List.of(GOOD, SIMILAR), null, 1);

    assertThat(ranking.method()).isEqualTo(RankingResult.JUDGE);
    assertThat(ranking.result()).isEqualTo(new RankingResult(List.of("beta", "alpha"), "judge"));
    RankEntry beta = ranking.ranking().getFirst();
    Map<String, Map<String, Double>> measured =
        BuiltinRanker.metrics(PROMPT, List.of(GOOD, SIMILAR));
    assertThat(beta.metrics())
        .containsEntry(RankEntry.RELEVANCE, 0.9)
        .containsEntry(RankEntry.AGREEMENT, 0.5)
        .containsEntry(RankEntry.COMPLETENESS, 0.95)
        .containsEntry(
            RankEntry.LATENCY, BuiltinRanker.round(measured.get("beta").get(RankEntry.LATENCY)))
        .containsEntry(
            RankEntry.COST, BuiltinRanker.round(measured.get("beta").get(RankEntry.COST)));
    assertThat(ranking.summaries())
        .containsExactly(
            new AnswerSummary(
                "beta",
                "Beta explains Rayleigh scattering clearly.",
                "Clear and correct.",
                List.of("Rayleigh scattering", "short wavelengths")),
            new AnswerSummary(
                "alpha", "Alpha says the sky is blue.", "Correct but thin.", List.of()));

    // The judge saw the question and both answers (clipped to maxAnswerChars), named exactly.
    ChatRequest request = stub.lastRequest;
    assertThat(request.model()).isEqualTo("judge-1");
    assertThat(request.temperature()).isEqualTo(0.0);
    assertThat(request.maxTokens()).isEqualTo(1024);
    assertThat(request.messages())
        .extracting(ChatMessage::role)
        .containsExactly(ChatMessage.Role.SYSTEM, ChatMessage.Role.USER);
    String user = request.messages().getLast().content();
    assertThat(user)
        .contains(PROMPT)
        .contains("Answer of agent \"alpha\"")
        .contains("Answer of agent \"beta\"")
        .contains(GOOD.content().substring(0, 50))
        .doesNotContain(GOOD.content().substring(0, 51))
        .contains("[\"alpha\",\"beta\"]");
  }

  @Test
  void scoresAreClampedAndTextsCutToTheirWordLimits() {
    String longText = "word ".repeat(80).strip();
    String raw =
        """
        {"summaries":[{"agent":"a","summary":"%s","reasoning":"%s",
                       "keyPoints":["%s","p2","p2","p3","p4","p5","p6"]}],
         "scores":[{"agent":"a","relevance":7,"agreement":-1,"completeness":0.25}]}
        """
            .formatted(longText, longText, longText);

    Judge.Verdict v = Judge.parse(raw, List.of("a")).get("a");

    assertThat(TextDigest.wordCount(v.summary())).isEqualTo(AnswerSummary.MAX_SUMMARY_WORDS);
    assertThat(v.summary()).endsWith("word…");
    assertThat(TextDigest.wordCount(v.reasoning())).isEqualTo(AnswerSummary.MAX_REASONING_WORDS);
    assertThat(v.keyPoints())
        .hasSize(AnswerSummary.MAX_KEY_POINTS)
        .contains("p2", "p5")
        .doesNotContain("p6");
    assertThat(TextDigest.wordCount(v.keyPoints().getFirst()))
        .isEqualTo(TextDigest.MAX_KEY_POINT_WORDS);
    assertThat(v.relevance()).isEqualTo(1.0);
    assertThat(v.agreement()).isEqualTo(0.0);
    assertThat(v.completeness()).isEqualTo(0.25);
  }

  @Test
  void invalidVerdictsAreRejected() {
    List<String> agents = List.of("a", "b");
    String ok = "{\"agent\":\"%s\",\"summary\":\"S\",\"reasoning\":\"R\",\"keyPoints\":[]}";
    String score = "{\"agent\":\"%s\",\"relevance\":0.5,\"agreement\":0.5,\"completeness\":0.5}";
    String both =
        "{\"summaries\":[" + ok.formatted("a") + "," + ok.formatted("b") + "],\"scores\":[%s]}";

    assertThat(
            Judge.parse(both.formatted(score.formatted("a") + "," + score.formatted("b")), agents))
        .containsOnlyKeys("a", "b");
    for (String raw :
        List.of(
            "I cannot judge these answers.",
            "{\"summaries\": [",
            "[1, 2, 3]",
            "{\"scores\":[]}",
            both.formatted(score.formatted("a")),
            both.formatted(
                score.formatted("a") + "," + score.formatted("b").replace("0.5,", "\"high\",")),
            both.replace("\"S\"", "\"  \"")
                .formatted(score.formatted("a") + "," + score.formatted("b")))) {
      assertThatThrownBy(() -> Judge.parse(raw, agents))
          .as(raw)
          .isInstanceOf(Judge.InvalidVerdictException.class);
    }
  }

  @Test
  void anInvalidVerdictFallsBackToTheBuiltinMethod() throws Exception {
    StubJudge stub = new StubJudge("{\"summaries\":[], \"scores\":[]}");
    List<Answer> answers = List.of(GOOD, SIMILAR, OFF_TOPIC);

    Ranking ranking = ranker(stub, Duration.ofSeconds(5)).rank(TASK, PROMPT, answers, null, 1);

    assertThat(ranking).isEqualTo(new BuiltinRanker(DEFAULT_WEIGHTS).rank(PROMPT, answers));
    assertThat(ranking.method()).isEqualTo(RankingResult.BUILTIN);
    assertThat(stub.lastRequest).isNotNull();
  }

  @Test
  void aFailingJudgeFallsBackToTheBuiltinMethod() throws Exception {
    StubJudge stub = new StubJudge(VERDICT);
    stub.failure =
        ProviderFailure.of(ProviderFailureType.ProviderRateLimited, "slow down").exception();
    List<Answer> answers = List.of(GOOD, SIMILAR);

    Ranking ranking = ranker(stub, Duration.ofSeconds(5)).rank(TASK, PROMPT, answers, null, 1);

    assertThat(ranking).isEqualTo(new BuiltinRanker(DEFAULT_WEIGHTS).rank(PROMPT, answers));
  }

  @Test
  void anUnknownJudgeProviderFallsBackToTheBuiltinMethod() throws Exception {
    var settings =
        new RankingProperties.JudgeSettings(
            "nowhere", "judge-1", Duration.ofSeconds(5), 1024, null, 100);
    var judge =
        new Judge(
            settings,
            new ProviderRegistry(List.of(new StubJudge(VERDICT)), List.of()),
            (provider, task) -> provider.serverEndpoint().orElseThrow());
    var ranker = new Ranker(new RankingProperties(DEFAULT_WEIGHTS, settings), judge, guards);

    assertThat(ranker.rank(TASK, PROMPT, List.of(GOOD), null, 1).method())
        .isEqualTo(RankingResult.BUILTIN);
  }

  @Test
  void aJudgeThatTakesTooLongIsStoppedAndTheBuiltinMethodTakesOver() throws Exception {
    StubJudge stub = new StubJudge(VERDICT);
    stub.hang = true;
    List<Answer> answers = List.of(GOOD, SIMILAR);
    long started = System.nanoTime();

    Ranking ranking = ranker(stub, Duration.ofMillis(300)).rank(TASK, PROMPT, answers, null, 1);

    assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(10));
    assertThat(ranking.method()).isEqualTo(RankingResult.BUILTIN);
    assertThat(stub.closed.await(1, TimeUnit.SECONDS)).isTrue();
    assertThat(stub.closedByCancellation).isTrue();
    // The deadline's interrupt does not leak into what the activity does next.
    assertThat(Thread.currentThread().isInterrupted()).isFalse();
  }

  @Test
  void withoutAJudgeTheBuiltinMethodRanks() throws Exception {
    var settings =
        new RankingProperties.JudgeSettings(null, null, Duration.ofSeconds(5), 1024, null, 100);
    StubJudge stub = new StubJudge(VERDICT);
    var judge =
        new Judge(
            settings,
            new ProviderRegistry(List.of(stub), List.of()),
            (provider, task) -> provider.serverEndpoint().orElseThrow());
    var ranker = new Ranker(new RankingProperties(DEFAULT_WEIGHTS, settings), judge, guards);

    assertThat(ranker.rank(TASK, PROMPT, List.of(GOOD, SIMILAR), null, 1).method())
        .isEqualTo(RankingResult.BUILTIN);
    assertThat(stub.lastRequest).isNull();
    assertThat(ranker.rank(TASK, PROMPT, List.of(), null, 1)).isEqualTo(Ranking.empty());
  }
}
