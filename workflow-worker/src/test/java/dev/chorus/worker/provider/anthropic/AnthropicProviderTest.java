package dev.chorus.worker.provider.anthropic;

import static dev.chorus.worker.provider.WireTestSupport.assertKeyNeverIn;
import static dev.chorus.worker.provider.WireTestSupport.cancelAfterFirstDelta;
import static dev.chorus.worker.provider.WireTestSupport.delayed;
import static dev.chorus.worker.provider.WireTestSupport.dropMidBody;
import static dev.chorus.worker.provider.WireTestSupport.failure;
import static dev.chorus.worker.provider.WireTestSupport.jsonResponse;
import static dev.chorus.worker.provider.WireTestSupport.record;
import static dev.chorus.worker.provider.WireTestSupport.resource;
import static dev.chorus.worker.provider.WireTestSupport.sse;
import static dev.chorus.worker.provider.WireTestSupport.utf8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.chorus.model.agent.ProviderFailureType;
import dev.chorus.model.agent.ProviderKind;
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
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import mockwebserver3.junit5.StartStop;
import okio.Buffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Wire-format tests of the Anthropic provider: transcripts in Anthropic's real SSE shape, served 7
 * bytes at a time so multi-byte characters and lines are split across reads.
 */
class AnthropicProviderTest {
  private static final String KEY = "sk-ant-api03-Zq9TESTxKEYx0123456789abcdefSECRET-AAAAAA";
  private static final String DIR = "/transcripts/anthropic/";
  private static final ObjectMapper JSON = ChorusJson.mapper();

  @StartStop final MockWebServer server = new MockWebServer();

  private static AnthropicProvider provider(Duration readTimeout) {
    return new AnthropicProvider(
        new AnthropicProperties(KEY, "https://unused.invalid", "2023-06-01", 4096, readTimeout),
        WireTestSupport.http(),
        JSON);
  }

  private static AnthropicProvider provider() {
    return provider(null);
  }

  private Endpoint endpoint() {
    return WireTestSupport.endpoint(server, KEY);
  }

  private static byte[] transcript(String name) {
    return resource(DIR + name);
  }

  private static ChatRequest ask(String question) {
    return new ChatRequest(
        "claude-sonnet-4-5-20250929",
        List.of(new ChatMessage(Role.USER, question)),
        null,
        null,
        null);
  }

  /** The answer text of a transcript, read independently of the provider: every text_delta. */
  private static String expectedText(byte[] transcript) {
    StringBuilder out = new StringBuilder();
    for (String line : utf8(transcript).split("\r?\n")) {
      if (line.startsWith("data: ")) {
        JsonNode node = json(line.substring("data: ".length()));
        JsonNode delta = node.path("delta");
        if (node.path("type").asText().equals("content_block_delta")
            && delta.path("type").asText().equals("text_delta")) {
          out.append(delta.path("text").asText());
        }
      }
    }
    return out.toString();
  }

  private static JsonNode json(String text) {
    try {
      return JSON.readTree(text);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static JsonNode body(RecordedRequest request) {
    return json(request.getBody().utf8());
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  // --- the happy path --------------------------------------------------------------------------

  @Test
  void streamsTheTranscriptExactlyAndSendsTheRequestAnthropicExpects() throws Exception {
    byte[] transcript = transcript("basic.sse");
    server.enqueue(sse(transcript));
    ChatRequest request =
        new ChatRequest(
            "claude-sonnet-4-5-20250929",
            List.of(
                new ChatMessage(Role.SYSTEM, "You are terse."),
                new ChatMessage(Role.SYSTEM, "Answer in French."),
                new ChatMessage(Role.USER, "Bonjour"),
                new ChatMessage(Role.ASSISTANT, "Salut !"),
                new ChatMessage(Role.USER, "Parle-moi"),
                new ChatMessage(Role.USER, "du café ☕")),
            1.5,
            256,
            null);

    Recording recording = record(provider(), endpoint(), request);

    assertThat(recording.text())
        .isEqualTo(expectedText(transcript))
        .isEqualTo(
            "Bonjour ! Le café crème et la crêpe — naïve résumé.\n\n"
                + "日本語のテキストも大丈夫です。🎵 Music 🎶🎵 and \"quotes\" with a tab\there. ");
    assertThat(recording.deltas()).hasSize(6).contains("🎵");
    assertThat(recording.end().usage()).isEqualTo(new Usage(25, 42));
    assertThat(recording.end().finishReason()).isEqualTo("end_turn");

    RecordedRequest sent = server.takeRequest();
    assertThat(sent.getMethod()).isEqualTo("POST");
    assertThat(sent.getTarget()).isEqualTo("/v1/messages");
    assertThat(sent.getHeaders().get("x-api-key")).isEqualTo(KEY);
    assertThat(sent.getHeaders().get("anthropic-version")).isEqualTo("2023-06-01");
    assertThat(sent.getHeaders().get("Content-Type")).isEqualTo("application/json");
    assertThat(sent.getHeaders().get("Authorization")).isNull();
    JsonNode body = body(sent);
    assertThat(body.path("model").asText()).isEqualTo("claude-sonnet-4-5-20250929");
    assertThat(body.path("max_tokens").asInt()).isEqualTo(256);
    assertThat(body.path("system").asText()).isEqualTo("You are terse.\n\nAnswer in French.");
    assertThat(body.path("stream").isBoolean()).isTrue();
    assertThat(body.path("stream").asBoolean()).isTrue();
    // 1.5 is beyond Anthropic's 0..1 range: clamped.
    assertThat(body.path("temperature").asDouble()).isEqualTo(1.0);
    assertThat(body.path("messages"))
        .isEqualTo(
            json(
                """
                [{"role":"user","content":"Bonjour"},
                 {"role":"assistant","content":"Salut !"},
                 {"role":"user","content":"Parle-moi\\n\\ndu café ☕"}]\
                """));
  }

  @Test
  void defaultsMaxTokensOmitsSystemAndTemperatureAndStartsWithAUserTurn() throws Exception {
    server.enqueue(sse(transcript("basic.sse")));
    ChatRequest request =
        new ChatRequest(
            "claude-3-5-haiku-20241022",
            List.of(
                new ChatMessage(Role.ASSISTANT, "An earlier answer"),
                new ChatMessage(Role.USER, "   "),
                new ChatMessage(Role.USER, "And now?")),
            null,
            null,
            null);

    record(provider(), endpoint(), request);

    JsonNode body = body(server.takeRequest());
    assertThat(body.path("max_tokens").asInt()).isEqualTo(4096);
    assertThat(body.has("system")).isFalse();
    assertThat(body.has("temperature")).isFalse();
    assertThat(body.path("messages"))
        .isEqualTo(
            json(
                """
                [{"role":"user","content":"%s"},
                 {"role":"assistant","content":"An earlier answer"},
                 {"role":"user","content":"And now?"}]\
                """
                    .formatted(AnthropicProvider.LEADING_USER_TURN)));
  }

  @Test
  void aPrefillIsAFinalAssistantTurnWithoutTrailingWhitespaceAndDeltasAreTheContinuation()
      throws Exception {
    byte[] transcript = transcript("basic.sse");
    server.enqueue(sse(transcript));
    ChatRequest request =
        new ChatRequest(
            "claude-sonnet-4-5-20250929",
            List.of(new ChatMessage(Role.USER, "Dis bonjour")),
            0.3,
            100,
            "Voici ma réponse :  \n");
    AnthropicProvider provider = provider();

    Recording recording = record(provider, endpoint(), request);

    assertThat(provider.supportsPrefill()).isTrue();
    assertThat(recording.text()).isEqualTo(expectedText(transcript));
    JsonNode body = body(server.takeRequest());
    assertThat(body.path("temperature").asDouble()).isEqualTo(0.3);
    assertThat(body.path("messages"))
        .isEqualTo(
            json(
                """
                [{"role":"user","content":"Dis bonjour"},
                 {"role":"assistant","content":"Voici ma réponse :"}]\
                """));
  }

  @Test
  void thinkingAndSignatureDeltasAreNotAnswerText() throws Exception {
    byte[] transcript = transcript("thinking.sse");
    server.enqueue(sse(transcript));

    Recording recording = record(provider(), endpoint(), ask("27 × 453 ?"));

    assertThat(recording.text())
        .isEqualTo(expectedText(transcript))
        .isEqualTo("27 × 453 = **12 231** — voilà, déjà fait ✨")
        .doesNotContain("Let me compute");
    assertThat(recording.deltas()).hasSize(2);
    assertThat(recording.end().usage()).isEqualTo(new Usage(37, 118));
    assertThat(recording.end().finishReason()).isEqualTo("end_turn");
  }

  @Test
  void sseCommentsAndCrlfLineEndingsChangeNothing() throws Exception {
    byte[] transcript = transcript("basic.sse");
    String withComments =
        utf8(transcript)
            .replace("event: ping\n", ": keep-alive from a proxy\n\nevent: ping\n")
            .replace("event: content_block_stop\n", ":\n\nevent: content_block_stop\n")
            .replace("\n", "\r\n");
    server.enqueue(sse(bytes(withComments)));

    Recording recording = record(provider(), endpoint(), ask("hi"));

    assertThat(recording.text()).isEqualTo(expectedText(transcript));
    assertThat(recording.end().usage()).isEqualTo(new Usage(25, 42));
  }

  @Test
  void maxTokensIsANormalEnd() throws Exception {
    String transcript =
        utf8(transcript("basic.sse"))
            .replace("\"stop_reason\":\"end_turn\"", "\"stop_reason\":\"max_tokens\"");
    server.enqueue(sse(bytes(transcript)));

    Recording recording = record(provider(), endpoint(), ask("hi"));

    assertThat(recording.text()).isEqualTo(expectedText(bytes(transcript)));
    assertThat(recording.end().finishReason()).isEqualTo("max_tokens");
  }

  @Test
  void aSlowFirstByteWithinTheReadTimeoutStillSucceeds() throws Exception {
    byte[] transcript = transcript("basic.sse");
    server.enqueue(delayed(sse(transcript), Duration.ofMillis(700), Duration.ZERO));

    Recording recording = record(provider(Duration.ofSeconds(2)), endpoint(), ask("hi"));

    assertThat(recording.text()).isEqualTo(expectedText(transcript));
  }

  // --- failures inside the stream --------------------------------------------------------------

  @Test
  void anErrorEventMidStreamIsClassifiedAfterTheDeltasBeforeIt() {
    server.enqueue(sse(transcript("error_midstream.sse")));
    List<String> deltas = new ArrayList<>();

    ApplicationFailure failure =
        failure(provider(), endpoint(), ask("hi"), ProviderFailureType.ProviderUnavailable, deltas);

    assertThat(deltas).containsExactly("Écoutez 🎵: le début ", "d'une réponse — 途中で");
    assertThat(failure.getOriginalMessage()).contains("overloaded_error", "Overloaded");
  }

  @ParameterizedTest
  @CsvSource({
    "rate_limit_error, ProviderRateLimited",
    "api_error, ProviderUnavailable",
    "invalid_request_error, ProviderInvalidRequest",
    "some_future_error, ProviderUnavailable"
  })
  void errorEventTypesAreClassified(String type, ProviderFailureType expected) {
    String stream =
        "event: message_start\n"
            + "data: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\","
            + "\"role\":\"assistant\",\"model\":\"claude-sonnet-4-5-20250929\",\"content\":[],"
            + "\"stop_reason\":null,\"stop_sequence\":null,"
            + "\"usage\":{\"input_tokens\":3,\"output_tokens\":1}}}\n\n"
            + "event: error\n"
            + "data: {\"type\":\"error\",\"error\":{\"type\":\""
            + type
            + "\",\"message\":\"something happened\"}}\n\n";
    server.enqueue(sse(bytes(stream)));

    ApplicationFailure failure =
        failure(provider(), endpoint(), ask("hi"), expected, new ArrayList<>());

    assertThat(failure.getOriginalMessage()).contains(type, "something happened");
  }

  @Test
  void aRefusalStopReasonIsANonRetryableRefusal() {
    server.enqueue(sse(transcript("refusal.sse")));
    List<String> deltas = new ArrayList<>();

    ApplicationFailure failure =
        failure(provider(), endpoint(), ask("hi"), ProviderFailureType.ProviderRefused, deltas);

    assertThat(String.join("", deltas)).isEqualTo("Je ne peux pas aider avec ça.");
    assertThat(failure.isNonRetryable()).isTrue();
  }

  @Test
  void aStreamEndingWithoutMessageStopIsBroken() {
    byte[] full = transcript("basic.sse");
    String text = utf8(full);
    String truncated = text.substring(0, text.indexOf("event: message_stop"));
    server.enqueue(sse(bytes(truncated)));
    List<String> deltas = new ArrayList<>();

    failure(provider(), endpoint(), ask("hi"), ProviderFailureType.ProviderStreamBroken, deltas);

    assertThat(String.join("", deltas)).isEqualTo(expectedText(full));
  }

  @Test
  void aStreamCutInsideAnEventIsBroken() {
    byte[] full = transcript("basic.sse");
    byte[] cut = Arrays.copyOf(full, full.length / 2);
    server.enqueue(sse(cut));
    List<String> deltas = new ArrayList<>();

    failure(provider(), endpoint(), ask("hi"), ProviderFailureType.ProviderStreamBroken, deltas);

    assertThat(expectedText(full)).startsWith(String.join("", deltas));
  }

  @Test
  void aConnectionDroppedMidBodyIsBrokenWithTheDeltasBeforeTheDrop() {
    byte[] full = transcript("basic.sse");
    server.enqueue(dropMidBody(sse(full)));
    List<String> deltas = new ArrayList<>();

    ApplicationFailure failure =
        failure(
            provider(), endpoint(), ask("hi"), ProviderFailureType.ProviderStreamBroken, deltas);

    String before = String.join("", deltas);
    assertThat(deltas).isNotEmpty();
    assertThat(before).isNotEqualTo(expectedText(full));
    assertThat(expectedText(full)).startsWith(before);
    assertThat(failure.isNonRetryable()).isFalse();
  }

  @Test
  void noHeadersWithinTheReadTimeoutIsATimeout() {
    server.enqueue(delayed(sse(transcript("basic.sse")), Duration.ofSeconds(2), Duration.ZERO));

    failure(
        provider(Duration.ofMillis(300)),
        endpoint(),
        ask("hi"),
        ProviderFailureType.ProviderTimeout,
        new ArrayList<>());
  }

  @Test
  void aSilentBodyBeyondTheReadTimeoutIsATimeout() {
    server.enqueue(delayed(sse(transcript("basic.sse")), Duration.ZERO, Duration.ofSeconds(2)));

    failure(
        provider(Duration.ofMillis(300)),
        endpoint(),
        ask("hi"),
        ProviderFailureType.ProviderTimeout,
        new ArrayList<>());
  }

  @Test
  void cancellationMidStreamInterruptsPromptly() {
    // ~2.4 KB at 32 bytes per 50 ms: about 4 s if nobody cancels.
    server.enqueue(
        sse(transcript("basic.sse"))
            .newBuilder()
            .throttleBody(32, 50, TimeUnit.MILLISECONDS)
            .build());

    Cancelled cancelled =
        cancelAfterFirstDelta(provider(), endpoint(), ask("hi"), Duration.ofMillis(100));

    assertThat(cancelled.thrown()).isInstanceOf(InterruptedException.class);
    assertThat(cancelled.returnedAfterCancel()).isLessThan(Duration.ofMillis(1000));
    assertThat(cancelled.deltas()).isNotEmpty().hasSizeLessThan(6);
  }

  // --- HTTP errors -------------------------------------------------------------------------------

  static Stream<Arguments> httpErrors() {
    return Stream.of(
        Arguments.of(
            400,
            "error_400.json",
            null,
            ProviderFailureType.ProviderInvalidRequest,
            "messages.1.content"),
        Arguments.of(
            401,
            "error_401.json",
            null,
            ProviderFailureType.ProviderAuthFailed,
            "invalid x-api-key"),
        Arguments.of(
            403, "error_403.json", null, ProviderFailureType.ProviderAuthFailed, "permission"),
        Arguments.of(
            404,
            "error_404_model.json",
            null,
            ProviderFailureType.ProviderUnknownModel,
            "claude-nonexistent-9"),
        Arguments.of(
            413,
            "error_413.json",
            null,
            ProviderFailureType.ProviderInvalidRequest,
            "maximum allowed number of bytes"),
        Arguments.of(
            429, "error_429.json", "7", ProviderFailureType.ProviderRateLimited, "rate limit"),
        Arguments.of(
            500, "error_500.json", null, ProviderFailureType.ProviderUnavailable, "api_error"),
        Arguments.of(
            503,
            "error_503.html",
            null,
            ProviderFailureType.ProviderUnavailable,
            "503 Service Temporarily Unavailable"),
        Arguments.of(
            529, "error_529.json", "3", ProviderFailureType.ProviderUnavailable, "Overloaded"));
  }

  @ParameterizedTest
  @MethodSource("httpErrors")
  void httpErrorsAreClassified(
      int status,
      String file,
      String retryAfter,
      ProviderFailureType expected,
      String messagePart) {
    MockResponse.Builder response =
        new MockResponse.Builder()
            .code(status)
            .setHeader("Content-Type", file.endsWith(".html") ? "text/html" : "application/json")
            .body(new Buffer().write(transcript(file)));
    if (retryAfter != null) {
      response.setHeader("retry-after", retryAfter);
    }
    server.enqueue(response.build());

    ApplicationFailure failure =
        failure(provider(), endpoint(), ask("hi"), expected, new ArrayList<>());

    assertThat(failure.getOriginalMessage()).contains("HTTP " + status, messagePart);
    assertKeyNeverIn(failure, KEY);
    assertThat(failure.getDetails().get(0, Integer.class)).isEqualTo(status);
    if (retryAfter != null) {
      assertThat(failure.getNextRetryDelay())
          .isEqualTo(Duration.ofSeconds(Long.parseLong(retryAfter)));
    } else {
      assertThat(failure.getNextRetryDelay()).isNull();
    }
    String requestId =
        file.endsWith(".json") ? json(utf8(transcript(file))).path("request_id").asText("") : "";
    if (!requestId.isEmpty()) {
      assertThat(failure.getOriginalMessage()).contains("(request_id " + requestId + ")");
    }
  }

  @Test
  void anUnknownModelReportedAsA400IsAnUnknownModel() {
    server.enqueue(
        jsonResponse(
            400,
            "{\"type\":\"error\",\"error\":{\"type\":\"invalid_request_error\","
                + "\"message\":\"model claude-x does not exist\"}}"));

    failure(
        provider(),
        endpoint(),
        ask("hi"),
        ProviderFailureType.ProviderUnknownModel,
        new ArrayList<>());
  }

  @Test
  void aKeyEchoedInAnErrorBodyNeverReachesTheFailure() {
    server.enqueue(
        jsonResponse(
            401,
            "{\"type\":\"error\",\"error\":{\"type\":\"authentication_error\","
                + "\"message\":\"invalid x-api-key: "
                + KEY
                + "\"}}"));
    server.enqueue(new MockResponse.Builder().code(502).body("bad gateway for " + KEY).build());

    ApplicationFailure json =
        failure(
            provider(),
            endpoint(),
            ask("hi"),
            ProviderFailureType.ProviderAuthFailed,
            new ArrayList<>());
    ApplicationFailure raw =
        failure(
            provider(),
            endpoint(),
            ask("hi"),
            ProviderFailureType.ProviderUnavailable,
            new ArrayList<>());

    for (ApplicationFailure failure : List.of(json, raw)) {
      assertThat(failure.getOriginalMessage()).contains("***");
      assertKeyNeverIn(failure, KEY);
    }
  }

  // --- model list and wiring -------------------------------------------------------------------

  @Test
  void listModelsFollowsPagination() throws Exception {
    server.enqueue(jsonResponse(200, transcript("models_page1.json")));
    server.enqueue(jsonResponse(200, transcript("models_page2.json")));

    List<ModelInfo> models = provider().listModels(endpoint());

    assertThat(models)
        .containsExactly(
            new ModelInfo("claude-sonnet-4-5-20250929", "Claude Sonnet 4.5", 200000, 64000),
            new ModelInfo("claude-opus-4-1-20250805", "Claude Opus 4.1", null, null),
            new ModelInfo("claude-3-5-haiku-20241022", "Claude Haiku 3.5", null, null));
    RecordedRequest first = server.takeRequest();
    RecordedRequest second = server.takeRequest();
    assertThat(first.getMethod()).isEqualTo("GET");
    assertThat(first.getTarget()).isEqualTo("/v1/models?limit=1000");
    assertThat(second.getTarget())
        .isEqualTo("/v1/models?limit=1000&after_id=claude-opus-4-1-20250805");
    for (RecordedRequest request : List.of(first, second)) {
      assertThat(request.getHeaders().get("x-api-key")).isEqualTo(KEY);
      assertThat(request.getHeaders().get("anthropic-version")).isEqualTo("2023-06-01");
      assertThat(request.getTarget()).doesNotContain(KEY);
    }
  }

  @Test
  void listModelsClassifiesErrors() {
    server.enqueue(jsonResponse(401, transcript("error_401.json")));

    ApplicationFailure failure =
        catchThrowableOfType(ApplicationFailure.class, () -> provider().listModels(endpoint()));

    assertThat(failure.getType()).isEqualTo(ProviderFailureType.ProviderAuthFailed.name());
    assertThat(failure.isNonRetryable()).isTrue();
  }

  @Test
  void anEndpointWithoutKeySendsNoKeyHeader() throws Exception {
    server.enqueue(sse(transcript("basic.sse")));
    Endpoint keyless = WireTestSupport.endpoint(server, null);

    record(provider(), keyless, ask("hi"));

    assertThat(server.takeRequest().getHeaders().get("x-api-key")).isNull();
  }

  @Test
  void theServerEndpointExistsOnlyWithAKey() {
    AnthropicProvider withKey =
        new AnthropicProvider(
            new AnthropicProperties(KEY, "https://api.anthropic.com", "2023-06-01", 4096, null),
            WireTestSupport.http(),
            JSON);
    AnthropicProvider blank =
        new AnthropicProvider(
            new AnthropicProperties("  ", "https://api.anthropic.com", "2023-06-01", 4096, null),
            WireTestSupport.http(),
            JSON);

    assertThat(withKey.id()).isEqualTo("anthropic");
    assertThat(withKey.kind()).isEqualTo(ProviderKind.ANTHROPIC);
    assertThat(withKey.defaultBaseUrl()).isEqualTo("https://api.anthropic.com");
    assertThat(withKey.serverEndpoint())
        .contains(new Endpoint("https://api.anthropic.com", KEY, false));
    assertThat(blank.serverEndpoint()).isEmpty();
    assertThat(new AnthropicProperties(KEY, "x", "v", 1, null).toString()).doesNotContain(KEY);
  }
}
