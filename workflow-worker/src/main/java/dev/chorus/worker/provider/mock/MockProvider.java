package dev.chorus.worker.provider.mock;

import dev.chorus.model.agent.Usage;
import dev.chorus.worker.provider.ChatMessage;
import dev.chorus.worker.provider.ChatProvider;
import dev.chorus.worker.provider.ChatRequest;
import dev.chorus.worker.provider.StreamSink;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.SplittableRandom;
import org.springframework.stereotype.Component;

/**
 * Deterministic stand-in for a real LLM: the same model and prompt always give the same text, so
 * tests can compare what a client assembled with what was persisted. The vocabulary includes
 * multi-byte characters on purpose.
 */
@Component
public class MockProvider implements ChatProvider {
  private static final List<String> WORDS =
      List.of(
          "durable",
          "workflows",
          "stream",
          "every",
          "token",
          "café",
          "naïve",
          "über",
          "résumé",
          "agents",
          "answer",
          "together",
          "—",
          "déjà",
          "vu",
          "ranking",
          "summary",
          "Chorus",
          "listens",
          "carefully",
          "and",
          "then",
          "replies",
          "with",
          "calm",
          "precision",
          "🎵",
          "harmony",
          "of",
          "many",
          "voices",
          "若",
          "水");

  private final MockProperties properties;

  public MockProvider(MockProperties properties) {
    this.properties = properties;
  }

  @Override
  public String id() {
    return "mock";
  }

  @Override
  public Usage stream(ChatRequest request, StreamSink sink) throws InterruptedException {
    List<String> tokens = tokens(request.model(), request.prompt());
    Thread.sleep(properties.firstTokenDelay());
    for (String token : tokens) {
      sink.onDelta(token);
      Thread.sleep(properties.tokenDelay());
    }
    long input =
        request.messages().stream()
            .map(ChatMessage::content)
            .mapToLong(c -> c.length() / 4 + 1)
            .sum();
    return new Usage(input, tokens.size());
  }

  /** The deterministic answer, token by token. */
  public List<String> tokens(String model, String prompt) {
    long seed = 0;
    for (byte b : (model + '\n' + prompt).getBytes(StandardCharsets.UTF_8)) {
      seed = seed * 31 + b;
    }
    SplittableRandom random = new SplittableRandom(seed);
    String head = "[" + model + "] ";
    java.util.ArrayList<String> out = new java.util.ArrayList<>(properties.tokens() + 1);
    out.add(head);
    for (int i = 0; i < properties.tokens(); i++) {
      String word = WORDS.get(random.nextInt(WORDS.size()));
      out.add(i + 1 < properties.tokens() ? word + " " : word + ".");
    }
    return out;
  }
}
