package dev.chorus.worker.provider.ollama;

import static dev.chorus.worker.provider.WireTestSupport.chunked;
import static dev.chorus.worker.provider.WireTestSupport.failure;
import static dev.chorus.worker.provider.WireTestSupport.record;
import static dev.chorus.worker.provider.WireTestSupport.resource;
import static dev.chorus.worker.provider.WireTestSupport.utf8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.chorus.model.agent.ProviderFailureType;
import dev.chorus.model.agent.Usage;
import dev.chorus.model.json.ChorusJson;
import dev.chorus.worker.provider.Cancellation;
import dev.chorus.worker.provider.ChatMessage;
import dev.chorus.worker.provider.ChatMessage.Role;
import dev.chorus.worker.provider.ChatRequest;
import dev.chorus.worker.provider.Endpoint;
import dev.chorus.worker.provider.ModelInfo;
import dev.chorus.worker.provider.WireTestSupport;
import dev.chorus.worker.provider.WireTestSupport.Recording;
import io.temporal.failure.ApplicationFailure;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import mockwebserver3.SocketEffect;
import mockwebserver3.junit5.StartStop;
import okio.Buffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Ollama's NDJSON wire format against a fake server replaying transcripts byte for byte, 7 bytes at
 * a time, so multi-byte characters and lines are split across network reads.
 */
class OllamaProviderTest {
  private static final String KEY = "ollama-test-secret-key-0000";
  private static final String NDJSON = "application/x-ndjson";
  private static final String EXPECTED_TEXT = "Café crème: 日本語で「こんにちは」 🎵 <3 & déjà vu\n若水";

  @StartStop MockWebServer server = new MockWebServer();

  private final ObjectMapper json = ChorusJson.mapper();

  private OllamaProvider provider(Duration readTimeout) {
    return new OllamaProvider(
        new OllamaProperties(endpoint(KEY).baseUrl(), KEY, readTimeout),
        WireTestSupport.http(),
        json);
  }

  private OllamaProvider provider() {
    return provider(Duration.ofSeconds(1));
  }

  private Endpoint endpoint(String key) {
    return WireTestSupport.endpoint(server, key);
  }

  private static ChatRequest request(String model) {
    return new ChatRequest(
        model,
        List.of(
            new ChatMessage(Role.SYSTEM, "You are terse."),
            new ChatMessage(Role.USER, "Bonjour ☕"),
            new ChatMessage(Role.ASSISTANT, "Salut !"),
            new ChatMessage(Role.USER, "Greet me in Japanese 🎵")),
        0.2,
        128);
  }

  private static MockResponse ndjson(byte[] body) {
    return chunked(NDJSON, body, 7);
  }

  /** The answer computed from the transcript itself: every line's {@code message.content}. */
  private String textOf(byte[] transcript) throws Exception {
    StringBuilder text = new StringBuilder();
    for (String line : utf8(transcript).split("\n")) {
      if (!line.isBlank()) {
        text.append(json.readTree(line).path("message").path("content").asText(""));
      }
    }
    return text.toString();
  }

  @Test
  void streamsTheTranscriptExactlyAndSendsTheRequestOllamaExpects() throws Exception {
    byte[] transcript = resource("/transcripts/ollama/chat-multibyte.ndjson");
    server.enqueue(ndjson(transcript));

    Recording recording = record(provider(), endpoint(KEY), request("qwen3:8b"));

    assertThat(recording.text()).isEqualTo(textOf(transcript)).isEqualTo(EXPECTED_TEXT);
    assertThat(recording.deltas())
        .containsExactly(
            "Café", " crème", ": 日本語", "で「こんにちは」", " 🎵", " <3 & déjà", " vu", "\n", "若水");
    assertThat(recording.text()).doesNotContain("café greeting");
    assertThat(recording.end().usage()).isEqualTo(new Usage(23, 41));
    assertThat(recording.end().finishReason()).isEqualTo("stop");

    RecordedRequest sent = server.takeRequest();
    assertThat(sent.getMethod()).isEqualTo("POST");
    assertThat(sent.getUrl().encodedPath()).isEqualTo("/api/chat");
    assertThat(sent.getHeaders().get("Authorization")).isEqualTo("Bearer " + KEY);
    assertThat(sent.getHeaders().get("Content-Type")).startsWith("application/json");
    assertThat(json.readTree(sent.getBody().utf8()))
        .isEqualTo(
            json.readTree(
                """
                {
                  "model": "qwen3:8b",
                  "messages": [
                    {"role": "system", "content": "You are terse."},
                    {"role": "user", "content": "Bonjour ☕"},
                    {"role": "assistant", "content": "Salut !"},
                    {"role": "user", "content": "Greet me in Japanese 🎵"}
                  ],
                  "stream": true,
                  "options": {"temperature": 0.2, "num_predict": 128}
                }
                """));
  }

  @Test
  void withoutAKeyOrOptionsNeitherIsSent() throws Exception {
    server.enqueue(ndjson(resource("/transcripts/ollama/chat-length.ndjson")));

    record(
        provider(),
        endpoint(null),
        new ChatRequest("llama3.2:3b", List.of(new ChatMessage(Role.USER, "Über")), null, null));

    RecordedRequest sent = server.takeRequest();
    assertThat(sent.getHeaders().get("Authorization")).isNull();
    JsonNode body = json.readTree(sent.getBody().utf8());
    assertThat(body.has("options")).isFalse();
    assertThat(body.get("stream").asBoolean()).isTrue();
  }

  @Test
  void aLengthStopEndsNormallyWithItsCounts() throws Exception {
    byte[] transcript = resource("/transcripts/ollama/chat-length.ndjson");
    server.enqueue(ndjson(transcript));

    Recording recording = record(provider(), endpoint(KEY), request("llama3.2:3b"));

    assertThat(recording.text()).isEqualTo(textOf(transcript)).isEqualTo("Über den Wolken");
    assertThat(recording.end().finishReason()).isEqualTo("length");
    assertThat(recording.end().usage()).isEqualTo(new Usage(31, 3));
  }

  @Test
  void anErrorLineMidStreamIsUnavailableAfterTheTextBeforeIt() {
    server.enqueue(ndjson(resource("/transcripts/ollama/chat-error-midstream.ndjson")));
    List<String> deltas = new ArrayList<>();

    ApplicationFailure failure =
        failure(
            provider(),
            endpoint(KEY),
            request("llama3.2:3b"),
            ProviderFailureType.ProviderUnavailable,
            deltas);

    assertThat(deltas).containsExactly("Déjà", " vu", " 🎵");
    assertThat(failure.getOriginalMessage()).contains("unexpected EOF");
  }

  @Test
  void aModelNotFoundLineMidStreamIsAnUnknownModel() {
    server.enqueue(
        ndjson("{\"error\":\"model 'nope' not found\"}\n".getBytes(StandardCharsets.UTF_8)));

    failure(
        provider(),
        endpoint(KEY),
        request("nope"),
        ProviderFailureType.ProviderUnknownModel,
        new ArrayList<>());
  }

  @Test
  void aStreamEndingWithoutTheDoneLineIsBroken() throws Exception {
    byte[] transcript = resource("/transcripts/ollama/chat-truncated.ndjson");
    server.enqueue(ndjson(transcript));
    List<String> deltas = new ArrayList<>();

    failure(
        provider(),
        endpoint(KEY),
        request("qwen3:8b"),
        ProviderFailureType.ProviderStreamBroken,
        deltas);

    assertThat(String.join("", deltas))
        .isEqualTo(textOf(transcript))
        .isEqualTo("Café crème: 日本語で「こんにちは」 🎵");
  }

  @Test
  void aStreamCutInsideALineIsBroken() {
    byte[] transcript = resource("/transcripts/ollama/chat-multibyte.ndjson");
    // Cut inside the last "done" line: the partial JSON must not be taken for the end.
    byte[] cut = Arrays.copyOf(transcript, transcript.length - 40);
    server.enqueue(ndjson(cut));
    List<String> deltas = new ArrayList<>();

    failure(
        provider(),
        endpoint(KEY),
        request("qwen3:8b"),
        ProviderFailureType.ProviderStreamBroken,
        deltas);

    assertThat(String.join("", deltas)).isEqualTo(EXPECTED_TEXT);
  }

  @Test
  void aConnectionDroppedMidBodyIsBrokenAfterDeliveringWhatCame() {
    server.enqueue(
        ndjson(resource("/transcripts/ollama/chat-multibyte.ndjson"))
            .newBuilder()
            .onResponseBody(SocketEffect.ShutdownConnection.INSTANCE)
            .build());
    List<String> deltas = new ArrayList<>();

    failure(
        provider(),
        endpoint(KEY),
        request("qwen3:8b"),
        ProviderFailureType.ProviderStreamBroken,
        deltas);

    assertThat(EXPECTED_TEXT).startsWith(String.join("", deltas));
  }

  @Test
  void aSlowFirstByteWithinTheReadTimeoutStillSucceeds() throws Exception {
    server.enqueue(
        ndjson(resource("/transcripts/ollama/chat-multibyte.ndjson"))
            .newBuilder()
            .headersDelay(300, TimeUnit.MILLISECONDS)
            .bodyDelay(300, TimeUnit.MILLISECONDS)
            .build());

    assertThat(record(provider(), endpoint(KEY), request("qwen3:8b")).text())
        .isEqualTo(EXPECTED_TEXT);
  }

  @Test
  void noByteWithinTheReadTimeoutIsATimeout() {
    server.enqueue(
        ndjson(resource("/transcripts/ollama/chat-multibyte.ndjson"))
            .newBuilder()
            .bodyDelay(1500, TimeUnit.MILLISECONDS)
            .build());

    failure(
        provider(Duration.ofMillis(300)),
        endpoint(KEY),
        request("qwen3:8b"),
        ProviderFailureType.ProviderTimeout,
        new ArrayList<>());
  }

  @Test
  void cancellationClosesTheStreamPromptly() {
    server.enqueue(
        ndjson(resource("/transcripts/ollama/chat-multibyte.ndjson"))
            .newBuilder()
            .onResponseBody(SocketEffect.Stall.INSTANCE) // half the body, then silence
            .build());
    TestCancellation cancellation = new TestCancellation();
    List<String> deltas = new CopyOnWriteArrayList<>();

    assertThatThrownBy(() ->
            provider(Duration.ofSeconds(5)).stream(
                endpoint(KEY),
                request("qwen3:8b"),
                delta -> {
                  deltas.add(delta);
                  if (deltas.size() == 1) {
                    Thread.ofPlatform().start(cancellation::cancel);
                  }
                },
                cancellation))
        .isInstanceOf(InterruptedException.class);

    assertThat(deltas).isNotEmpty();
    // The read timeout is 5 s and the server stalls forever: only the cancellation ends the call.
    assertThat(Duration.ofNanos(System.nanoTime() - cancellation.cancelledAt()))
        .isLessThan(Duration.ofSeconds(2));
  }

  @ParameterizedTest(name = "{0} {1} → {2}")
  @CsvSource(
      delimiter = '|',
      value = {
        "404 | {\"error\":\"model \\\"llama3.3:70b\\\" not found, try pulling it first\"} | ProviderUnknownModel | not found",
        "400 | {\"error\":\"model 'llama3.3:70b' not found\"} | ProviderUnknownModel | not found",
        "400 | {\"error\":\"invalid options: num_predict\"} | ProviderInvalidRequest | invalid options",
        "401 | {\"error\":\"unauthorized\"} | ProviderAuthFailed | unauthorized",
        "500 | {\"error\":\"llama runner process has terminated: exit status 2\"} | ProviderUnavailable | llama runner",
        "502 | <html>Bad Gateway</html> | ProviderUnavailable | Bad Gateway",
      })
  void errorBodiesAreClassified(
      int status, String body, ProviderFailureType expected, String messagePart) {
    server.enqueue(errorResponse(status, body.getBytes(StandardCharsets.UTF_8)));

    ApplicationFailure failure =
        failure(provider(), endpoint(KEY), request("llama3.3:70b"), expected, new ArrayList<>());

    assertThat(failure.getOriginalMessage()).contains("HTTP " + status).contains(messagePart);
    assertNoKey(failure);
  }

  @Test
  void theRecordedNotFoundBodyIsAnUnknownModel() {
    server.enqueue(errorResponse(404, resource("/transcripts/ollama/error-404-model.json")));

    ApplicationFailure failure =
        failure(
            provider(),
            endpoint(KEY),
            request("llama3.3:70b"),
            ProviderFailureType.ProviderUnknownModel,
            new ArrayList<>());

    assertThat(failure.getOriginalMessage())
        .isEqualTo("HTTP 404: model \"llama3.3:70b\" not found, try pulling it first");
  }

  @Test
  void a429HonoursRetryAfter() {
    server.enqueue(
        errorResponse(429, "{\"error\":\"too many requests\"}".getBytes(StandardCharsets.UTF_8))
            .newBuilder()
            .setHeader("Retry-After", "12")
            .build());

    ApplicationFailure failure =
        failure(
            provider(),
            endpoint(KEY),
            request("gpt-oss:120b-cloud"),
            ProviderFailureType.ProviderRateLimited,
            new ArrayList<>());

    assertThat(failure.getNextRetryDelay()).isEqualTo(Duration.ofSeconds(12));
  }

  @Test
  void aKeyEchoedByAProxyIsRedacted() {
    server.enqueue(
        errorResponse(
            403,
            ("{\"error\":\"token Bearer " + KEY + " is not allowed\"}")
                .getBytes(StandardCharsets.UTF_8)));

    ApplicationFailure failure =
        failure(
            provider(),
            endpoint(KEY),
            request("qwen3:8b"),
            ProviderFailureType.ProviderAuthFailed,
            new ArrayList<>());

    assertThat(failure.getOriginalMessage()).contains("Bearer ***");
    assertNoKey(failure);
  }

  @Test
  void listsTheInstalledModels() throws Exception {
    server.enqueue(
        new MockResponse.Builder()
            .code(200)
            .setHeader("Content-Type", "application/json; charset=utf-8")
            .body(new Buffer().write(resource("/transcripts/ollama/tags.json")))
            .build());

    List<ModelInfo> models = provider().listModels(endpoint(KEY));

    assertThat(models)
        .containsExactly(
            new ModelInfo("qwen3:8b", "qwen3:8b (8.2B)", null, null),
            new ModelInfo("llama3.2:3b", "llama3.2:3b (3.2B)", null, null));
    RecordedRequest sent = server.takeRequest();
    assertThat(sent.getMethod()).isEqualTo("GET");
    assertThat(sent.getUrl().encodedPath()).isEqualTo("/api/tags");
    assertThat(sent.getHeaders().get("Authorization")).isEqualTo("Bearer " + KEY);
  }

  @Test
  void theServerEndpointExistsOnlyWithABaseUrl() {
    OllamaProvider configured =
        new OllamaProvider(
            new OllamaProperties("http://gpu-box:11434", null, Duration.ofSeconds(1)),
            WireTestSupport.http(),
            json);
    OllamaProvider blank =
        new OllamaProvider(
            new OllamaProperties("", null, Duration.ofSeconds(1)), WireTestSupport.http(), json);

    assertThat(configured.serverEndpoint())
        .hasValueSatisfying(e -> {
          assertThat(e.baseUrl()).isEqualTo("http://gpu-box:11434");
          assertThat(e.hasKey()).isFalse();
        });
    assertThat(configured.defaultBaseUrl()).isEqualTo("http://gpu-box:11434");
    assertThat(blank.serverEndpoint()).isEmpty();
    assertThat(blank.defaultBaseUrl()).isEqualTo("http://127.0.0.1:11434");
    assertThat(blank.id()).isEqualTo("ollama");
  }

  private static MockResponse errorResponse(int status, byte[] body) {
    return new MockResponse.Builder()
        .code(status)
        .setHeader("Content-Type", "application/json; charset=utf-8")
        .body(new Buffer().write(body))
        .build();
  }

  private static void assertNoKey(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause()) {
      assertThat(String.valueOf(t.getMessage())).doesNotContain(KEY);
      assertThat(t.toString()).doesNotContain(KEY);
    }
  }

  /** An activity's cancellation, triggered from another thread. */
  static final class TestCancellation implements Cancellation {
    private Runnable closer;
    private boolean cancelled;
    private long cancelledAt;

    @Override
    public synchronized void onCancel(Runnable closer) {
      this.closer = closer;
      if (cancelled) {
        closer.run();
      }
    }

    @Override
    public synchronized boolean isCancelled() {
      return cancelled;
    }

    synchronized long cancelledAt() {
      return cancelledAt;
    }

    synchronized void cancel() {
      cancelled = true;
      cancelledAt = System.nanoTime();
      if (closer != null) {
        closer.run();
      }
    }
  }
}
