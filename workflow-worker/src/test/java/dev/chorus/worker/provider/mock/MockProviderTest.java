package dev.chorus.worker.provider.mock;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.chorus.model.agent.ProviderFailureType;
import dev.chorus.model.agent.Usage;
import dev.chorus.worker.provider.Cancellation;
import dev.chorus.worker.provider.ChatMessage;
import dev.chorus.worker.provider.ChatMessage.Role;
import dev.chorus.worker.provider.ChatRequest;
import dev.chorus.worker.provider.Endpoint;
import io.temporal.failure.ApplicationFailure;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class MockProviderTest {
  private static final MockProperties FAST = new MockProperties(Duration.ZERO, Duration.ZERO, 300);

  private static ChatRequest request(String model, String... userTurns) {
    List<ChatMessage> messages = new ArrayList<>();
    messages.add(new ChatMessage(Role.SYSTEM, "You are a test."));
    for (String turn : userTurns) {
      messages.add(new ChatMessage(Role.USER, turn));
    }
    return new ChatRequest(model, messages, null, null);
  }

  private static final Endpoint ENDPOINT = new Endpoint("mock://local", null, false);

  private static List<String> stream(MockProvider provider, ChatRequest request)
      throws InterruptedException {
    List<String> received = new ArrayList<>();
    provider.stream(ENDPOINT, request, received::add, Cancellation.NONE);
    return received;
  }

  @Test
  void theSameModelAndPromptGiveTheSameTokens() throws InterruptedException {
    List<String> first = stream(new MockProvider(FAST), request("m1", "Why is the sky blue?"));
    List<String> second = stream(new MockProvider(FAST), request("m1", "Why is the sky blue?"));

    assertThat(first).hasSize(301).isEqualTo(second);
    assertThat(first.getFirst()).isEqualTo("[m1] ");
    assertThat(first.getLast()).endsWith(".");
  }

  @Test
  void differentPromptsOrModelsGiveDifferentAnswers() throws InterruptedException {
    MockProvider provider = new MockProvider(FAST);
    List<String> sky = stream(provider, request("m1", "Why is the sky blue?"));
    List<String> sea = stream(provider, request("m1", "Why is the sea blue?"));
    List<String> otherModel = stream(provider, request("m2", "Why is the sky blue?"));

    // Beyond the "[model] " head, the words themselves differ.
    assertThat(sea.subList(1, sea.size())).isNotEqualTo(sky.subList(1, sky.size()));
    assertThat(otherModel.subList(1, otherModel.size())).isNotEqualTo(sky.subList(1, sky.size()));
  }

  @Test
  void thePromptIsTheLastUserTurn() throws InterruptedException {
    MockProvider provider = new MockProvider(FAST);

    assertThat(stream(provider, request("m1", "earlier question", "Why is the sky blue?")))
        .isEqualTo(stream(provider, request("m1", "Why is the sky blue?")));
  }

  @Test
  void theSinkReceivesExactlyTheDeterministicAnswerAndUsageCountsTokens()
      throws InterruptedException {
    MockProvider provider = new MockProvider(FAST);
    ChatRequest request = request("m1", "Tell me a story");
    StringBuilder assembled = new StringBuilder();
    List<String> deltas = new ArrayList<>();

    Usage usage =
        provider.stream(
                ENDPOINT,
                request,
                delta -> {
                  deltas.add(delta);
                  assembled.append(delta);
                },
                Cancellation.NONE)
            .usage();

    List<String> expected = provider.tokens("m1", "Tell me a story");
    assertThat(deltas).isEqualTo(expected);
    assertThat(assembled.toString()).isEqualTo(String.join("", expected));
    assertThat(usage.outputTokens()).isEqualTo(expected.size());
    assertThat(usage.inputTokens()).isPositive();
  }

  @Test
  void multiByteCharactersArriveIntact() throws InterruptedException {
    List<String> deltas = stream(new MockProvider(FAST), request("m1", "sing"));
    String text = String.join("", deltas);

    // With 300 draws from the vocabulary, every multi-byte word shows up, whole.
    assertThat(text).contains("café", "naïve", "über", "résumé", "déjà", "—", "🎵", "若", "水");
    for (String delta : deltas) {
      // No delta splits a surrogate pair or a UTF-8 sequence: each round-trips through UTF-8.
      assertThat(new String(delta.getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8))
          .isEqualTo(delta);
      assertThat(Character.isLowSurrogate(delta.charAt(0))).isFalse();
      assertThat(Character.isHighSurrogate(delta.charAt(delta.length() - 1))).isFalse();
    }
    assertThat(deltas).anyMatch(d -> d.startsWith("🎵"));
  }

  private static ChatRequest attempt(String model, int attempt, String prefill) {
    return new ChatRequest(
        model, List.of(new ChatMessage(Role.USER, "Why?")), null, null, prefill, attempt);
  }

  private static ApplicationFailure failure(
      MockProvider provider, ChatRequest request, List<String> deltas) {
    return catchThrowableOfType(
        ApplicationFailure.class,
        () -> provider.stream(ENDPOINT, request, deltas::add, Cancellation.NONE));
  }

  @Test
  void injectedStatusesAreClassifiedLikeARealProviderAndOnlyOnTheFailingAttempts()
      throws InterruptedException {
    MockProvider provider = new MockProvider(FAST);
    List<String> none = new ArrayList<>();

    ApplicationFailure limited =
        failure(provider, attempt("m1?error=429&retryAfter=3s", 1, null), none);
    assertThat(limited.getType()).isEqualTo(ProviderFailureType.ProviderRateLimited.name());
    assertThat(limited.isNonRetryable()).isFalse();
    assertThat(limited.getNextRetryDelay()).isEqualTo(Duration.ofSeconds(3));

    ApplicationFailure auth =
        failure(provider, attempt("m1?error=401&failAttempts=all", 7, null), none);
    assertThat(auth.getType()).isEqualTo(ProviderFailureType.ProviderAuthFailed.name());
    assertThat(auth.isNonRetryable()).isTrue();

    ApplicationFailure server =
        failure(provider, attempt("m1?error=500&failAttempts=2", 2, null), none);
    assertThat(server.getType()).isEqualTo(ProviderFailureType.ProviderUnavailable.name());
    assertThat(none).isEmpty();

    // The third attempt is past failAttempts: the same answer as a plain m1.
    assertThat(stream(provider, attempt("m1?error=500&failAttempts=2", 3, null)))
        .isEqualTo(stream(provider, attempt("m1", 1, null)));
  }

  @Test
  void aDroppedStreamDeliversExactlyKTokensThenBreaksAndTheRetryGivesTheSameText()
      throws InterruptedException {
    MockProvider provider = new MockProvider(FAST);
    List<String> partial = new ArrayList<>();

    ApplicationFailure dropped = failure(provider, attempt("m1?dropAfter=5", 1, null), partial);

    assertThat(dropped.getType()).isEqualTo(ProviderFailureType.ProviderStreamBroken.name());
    assertThat(dropped.isNonRetryable()).isFalse();
    List<String> full = stream(provider, attempt("m1?dropAfter=5", 2, null));
    assertThat(partial).hasSize(5).isEqualTo(full.subList(0, 5));
    assertThat(full).isEqualTo(stream(provider, attempt("m1", 1, null)));
  }

  @Test
  void aPrefillIsContinuedNotRepeatedEvenWhenItEndsInsideAToken() throws InterruptedException {
    MockProvider provider = new MockProvider(FAST);
    String full = String.join("", stream(provider, attempt("m1", 1, null)));
    for (int cut : new int[] {0, 1, 7, full.length() / 2, full.length() - 1}) {
      String prefill = full.substring(0, cut);
      String rest = String.join("", stream(provider, attempt("m1", 2, prefill)));
      assertThat(prefill + rest).as("cut at %d", cut).isEqualTo(full);
    }
  }

  @Test
  void badScriptsAreNonRetryableInvalidRequests() {
    MockProvider provider = new MockProvider(FAST);
    for (String model :
        new String[] {
          "m1?error=abc", "m1?error=200", "m1?tokens=0", "m1?bogus=1", "m1?tokenDelay=1y"
        }) {
      ApplicationFailure bad = failure(provider, attempt(model, 1, null), new ArrayList<>());
      assertThat(bad).as(model).isNotNull();
      assertThat(bad.getType()).isEqualTo(ProviderFailureType.ProviderInvalidRequest.name());
      assertThat(bad.isNonRetryable()).isTrue();
    }
  }

  @Test
  void shapeParametersOverrideTheDefaults() throws InterruptedException {
    MockProvider provider = new MockProvider(FAST);
    // The "[model] " head plus three words.
    assertThat(stream(provider, attempt("m1?tokens=3&tokenDelay=0ms", 1, null))).hasSize(4);
  }
}
