package dev.chorus.worker.provider.mock;

import static org.assertj.core.api.Assertions.assertThat;

import dev.chorus.model.agent.Usage;
import dev.chorus.worker.provider.ChatMessage;
import dev.chorus.worker.provider.ChatMessage.Role;
import dev.chorus.worker.provider.ChatRequest;
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

  private static List<String> stream(MockProvider provider, ChatRequest request)
      throws InterruptedException {
    List<String> received = new ArrayList<>();
    provider.stream(request, received::add);
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
            request,
            delta -> {
              deltas.add(delta);
              assembled.append(delta);
            });

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
}
