package dev.chorus.worker.provider.ollama;

import static dev.chorus.worker.provider.WireTestSupport.assertKeyNeverIn;
import static dev.chorus.worker.provider.WireTestSupport.cancelAfterFirstDelta;
import static dev.chorus.worker.provider.WireTestSupport.chunked;
import static dev.chorus.worker.provider.WireTestSupport.delayed;
import static dev.chorus.worker.provider.WireTestSupport.dropMidBody;
import static dev.chorus.worker.provider.WireTestSupport.failure;
import static dev.chorus.worker.provider.WireTestSupport.jsonResponse;
import static dev.chorus.worker.provider.WireTestSupport.record;
import static dev.chorus.worker.provider.WireTestSupport.resource;
import static dev.chorus.worker.provider.WireTestSupport.stallMidBody;
import static dev.chorus.worker.provider.WireTestSupport.utf8;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.chorus.model.agent.ProviderFailureType;
import dev.chorus.model.agent.Usage;
import dev.chorus.model.json.ChorusJson;
import dev.chorus.worker.provider.ChatMessage;
import dev.chorus.worker.provider.ChatMessage.Role;
import dev.chorus.worker.provider.ChatRequest;
import dev.chorus.worker.provider.Endpoint;
import dev.chorus.worker.provider.ModelInfo;
import dev.chorus.worker.provider.WireTestSupport;
import dev.chorus.worker.provider.WireTestSupport.Cancelled;
import dev.chorus.worker.provider.WireTestSupport.Recording;
import io.temporal.failure.ApplicationFailure;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import mockwebserver3.junit5.StartStop;
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

  /** Streams {@code model} with the defaults and the key, expecting {@code expected}. */
  private ApplicationFailure streamFails(
      String model, ProviderFailureType expected, List<String> deltas) {
    return failure(provider(), endpoint(KEY), request(model), expected, deltas);
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
        streamFails("llama3.2:3b", ProviderFailureType.ProviderUnavailable, deltas);

    assertThat(deltas).containsExactly("Déjà", " vu", " 🎵");
    assertThat(failure.getOriginalMessage()).contains("unexpected EOF");
  }

  @Test
  void aModelNotFoundLineMidStreamIsAnUnknownModel() {
    server.enqueue(
        ndjson("{\"error\":\"model 'nope' not found\"}\n".getBytes(StandardCharsets.UTF_8)));

    streamFails("nope", ProviderFailureType.ProviderUnknownModel, new ArrayList<>());
  }

  @Test
  void aStreamEndingWithoutTheDoneLineIsBroken() throws Exception {
    byte[] transcript = resource("/transcripts/ollama/chat-truncated.ndjson");
    server.enqueue(ndjson(transcript));
    List<String> deltas = new ArrayList<>();

    streamFails("qwen3:8b", ProviderFailureType.ProviderStreamBroken, deltas);

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

    streamFails("qwen3:8b", ProviderFailureType.ProviderStreamBroken, deltas);

    assertThat(String.join("", deltas)).isEqualTo(EXPECTED_TEXT);
  }

  @Test
  void aConnectionDroppedMidBodyIsBrokenAfterDeliveringWhatCame() {
    server.enqueue(dropMidBody(ndjson(resource("/transcripts/ollama/chat-multibyte.ndjson"))));
    List<String> deltas = new ArrayList<>();

    streamFails("qwen3:8b", ProviderFailureType.ProviderStreamBroken, deltas);

    assertThat(EXPECTED_TEXT).startsWith(String.join("", deltas));
  }

  @Test
  void aSlowFirstByteWithinTheReadTimeoutStillSucceeds() throws Exception {
    server.enqueue(
        delayed(
            ndjson(resource("/transcripts/ollama/chat-multibyte.ndjson")),
            Duration.ofMillis(300),
            Duration.ofMillis(300)));

    assertThat(record(provider(), endpoint(KEY), request("qwen3:8b")).text())
        .isEqualTo(EXPECTED_TEXT);
  }

  @Test
  void noByteWithinTheReadTimeoutIsATimeout() {
    server.enqueue(
        delayed(
            ndjson(resource("/transcripts/ollama/chat-multibyte.ndjson")),
            Duration.ZERO,
            Duration.ofMillis(1500)));

    failure(
        provider(Duration.ofMillis(300)),
        endpoint(KEY),
        request("qwen3:8b"),
        ProviderFailureType.ProviderTimeout,
        new ArrayList<>());
  }

  @Test
  void cancellationClosesTheStreamPromptly() {
    server.enqueue(stallMidBody(ndjson(resource("/transcripts/ollama/chat-multibyte.ndjson"))));

    Cancelled cancelled =
        cancelAfterFirstDelta(
            provider(Duration.ofSeconds(5)), endpoint(KEY), request("qwen3:8b"), Duration.ZERO);

    assertThat(cancelled.thrown()).isInstanceOf(InterruptedException.class);
    assertThat(cancelled.deltas()).isNotEmpty();
    // The read timeout is 5 s and the server stalls forever: only the cancellation ends the call.
    assertThat(cancelled.returnedAfterCancel()).isLessThan(Duration.ofSeconds(2));
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
    server.enqueue(jsonResponse(status, body));

    ApplicationFailure failure = streamFails("llama3.3:70b", expected, new ArrayList<>());

    assertThat(failure.getOriginalMessage()).contains("HTTP " + status).contains(messagePart);
    assertKeyNeverIn(failure, KEY);
  }

  @Test
  void theRecordedNotFoundBodyIsAnUnknownModel() {
    server.enqueue(jsonResponse(404, resource("/transcripts/ollama/error-404-model.json")));

    ApplicationFailure failure =
        streamFails("llama3.3:70b", ProviderFailureType.ProviderUnknownModel, new ArrayList<>());

    assertThat(failure.getOriginalMessage())
        .isEqualTo("HTTP 404: model \"llama3.3:70b\" not found, try pulling it first");
  }

  @Test
  void a429HonoursRetryAfter() {
    server.enqueue(
        jsonResponse(429, "{\"error\":\"too many requests\"}")
            .newBuilder()
            .setHeader("Retry-After", "12")
            .build());

    ApplicationFailure failure =
        streamFails(
            "gpt-oss:120b-cloud", ProviderFailureType.ProviderRateLimited, new ArrayList<>());

    assertThat(failure.getNextRetryDelay()).isEqualTo(Duration.ofSeconds(12));
  }

  @Test
  void aKeyEchoedByAProxyIsRedacted() {
    server.enqueue(jsonResponse(403, "{\"error\":\"token Bearer " + KEY + " is not allowed\"}"));

    ApplicationFailure failure =
        streamFails("qwen3:8b", ProviderFailureType.ProviderAuthFailed, new ArrayList<>());

    assertThat(failure.getOriginalMessage()).contains("Bearer ***");
    assertKeyNeverIn(failure, KEY);
  }

  @Test
  void listsTheInstalledModels() throws Exception {
    server.enqueue(jsonResponse(200, resource("/transcripts/ollama/tags.json")));

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
}
