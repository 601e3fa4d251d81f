package dev.chorus.worker.provider.mock;

import dev.chorus.model.agent.ProviderFailureType;
import dev.chorus.model.agent.ProviderKind;
import dev.chorus.model.agent.Usage;
import dev.chorus.worker.provider.Cancellation;
import dev.chorus.worker.provider.ChatMessage;
import dev.chorus.worker.provider.ChatProvider;
import dev.chorus.worker.provider.ChatRequest;
import dev.chorus.worker.provider.Endpoint;
import dev.chorus.worker.provider.ModelInfo;
import dev.chorus.worker.provider.ProviderFailure;
import dev.chorus.worker.provider.ProviderHttp;
import dev.chorus.worker.provider.StreamEnd;
import dev.chorus.worker.provider.StreamSink;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.stereotype.Component;

/**
 * Deterministic stand-in for a real LLM: the same model and prompt always give the same text, so
 * tests can compare what a client assembled with what was persisted. The vocabulary includes
 * multi-byte characters on purpose.
 */
@Component
@ConditionalOnProperty(
    name = "chorus.providers.mock.enabled",
    havingValue = "true",
    matchIfMissing = true)
public class MockProvider implements ChatProvider {
  static final String BASE_URL = "mock://local";

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
  public ProviderKind kind() {
    return ProviderKind.MOCK;
  }

  @Override
  public Optional<Endpoint> serverEndpoint() {
    return Optional.of(new Endpoint(BASE_URL, null, false));
  }

  @Override
  public String defaultBaseUrl() {
    return BASE_URL;
  }

  @Override
  public List<ModelInfo> listModels(Endpoint endpoint) {
    return List.of(
        new ModelInfo("mock-1", "Mock (deterministic)", 8192, 4096),
        new ModelInfo("mock-2", "Mock, second voice", 8192, 4096));
  }

  @Override
  public boolean supportsPrefill() {
    return true;
  }

  /**
   * Streams the deterministic answer. The model may carry failure injection as query parameters
   * (see {@link MockScript}); the text depends only on the base model and the prompt, so a retry
   * produces the same answer.
   */
  @Override
  public StreamEnd stream(
      Endpoint endpoint, ChatRequest request, StreamSink sink, Cancellation cancellation)
      throws InterruptedException {
    MockScript script = MockScript.parse(request.model(), properties);
    boolean failing = script.failsOn(request.attempt());
    Thread.sleep(script.firstTokenDelay());
    if (failing && script.errorStatus() != null) {
      throw ProviderHttp.byStatus(
              script.errorStatus(),
              "mock injected HTTP " + script.errorStatus() + " on attempt " + request.attempt(),
              script.errorStatus() == 429 ? script.retryAfter() : null)
          .exception();
    }
    List<String> tokens = tokens(script.model(), request.prompt(), script.tokens());
    String skip = request.prefill() == null ? "" : request.prefill();
    int sent = 0;
    for (String token : tokens) {
      if (!skip.isEmpty()) {
        // Continue after the prefill: drop what it already covers, split a token at its end.
        int common = Math.min(skip.length(), token.length());
        if (!token.regionMatches(0, skip, 0, common)) {
          skip = "";
        } else {
          skip = skip.substring(common);
          token = token.substring(common);
          if (token.isEmpty()) {
            continue;
          }
        }
      }
      if (failing && script.dropAfter() != null && sent >= script.dropAfter()) {
        throw ProviderFailure.of(
                ProviderFailureType.ProviderStreamBroken,
                "mock dropped the stream after " + sent + " tokens on attempt " + request.attempt())
            .exception();
      }
      sink.onDelta(token);
      sent++;
      Thread.sleep(script.tokenDelay());
    }
    long input =
        request.messages().stream()
            .map(ChatMessage::content)
            .mapToLong(c -> c.length() / 4 + 1)
            .sum();
    return new StreamEnd(new Usage(input, tokens.size()), "stop");
  }

  /** The deterministic answer, token by token. */
  public List<String> tokens(String model, String prompt) {
    return tokens(model, prompt, properties.tokens());
  }

  List<String> tokens(String model, String prompt, int count) {
    long seed = 0;
    for (byte b : (model + '\n' + prompt).getBytes(StandardCharsets.UTF_8)) {
      seed = seed * 31 + b;
    }
    SplittableRandom random = new SplittableRandom(seed);
    String head = "[" + model + "] ";
    java.util.ArrayList<String> out = new java.util.ArrayList<>(count + 1);
    out.add(head);
    for (int i = 0; i < count; i++) {
      String word = WORDS.get(random.nextInt(WORDS.size()));
      out.add(i + 1 < count ? word + " " : word + ".");
    }
    return out;
  }
}
