package dev.chorus.worker.provider.gemini;

import static dev.chorus.worker.provider.WireTestSupport.assertKeyNeverIn;
import static dev.chorus.worker.provider.WireTestSupport.cancelAfterFirstDelta;
import static dev.chorus.worker.provider.WireTestSupport.delayed;
import static dev.chorus.worker.provider.WireTestSupport.dropMidBody;
import static dev.chorus.worker.provider.WireTestSupport.failure;
import static dev.chorus.worker.provider.WireTestSupport.jsonResponse;
import static dev.chorus.worker.provider.WireTestSupport.record;
import static dev.chorus.worker.provider.WireTestSupport.resource;
import static dev.chorus.worker.provider.WireTestSupport.sse;
import static dev.chorus.worker.provider.WireTestSupport.stallMidBody;
import static dev.chorus.worker.provider.WireTestSupport.utf8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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
import java.util.List;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import mockwebserver3.junit5.StartStop;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Gemini's wire format against a fake server replaying transcripts byte for byte, 7 bytes at a
 * time, so that every multi-byte character and every {@code \r\n\r\n} is split somewhere.
 */
class GeminiProviderTest {
  /** The same fake key appears in the 403 transcript, where Google echoes it. */
  private static final String KEY = "AIzaSyTEST-not-a-real-key-000000000000";

  private static final String EXPECTED_TEXT =
      "Café crème, naïve résumé — 日本語で「こんにちは」と言います。 🎵 Then \"encore\" — déjà vu!\n\n若水 🎶";

  @StartStop MockWebServer server = new MockWebServer();

  private final ObjectMapper json = ChorusJson.mapper();

  private GeminiProvider provider(Duration readTimeout) {
    return new GeminiProvider(
        new GeminiProperties(KEY, endpoint().baseUrl(), readTimeout), WireTestSupport.http(), json);
  }

  private GeminiProvider provider() {
    return provider(Duration.ofSeconds(1));
  }

  private Endpoint endpoint() {
    return WireTestSupport.endpoint(server, KEY);
  }

  private static ChatRequest request(String model) {
    return new ChatRequest(
        model,
        List.of(
            new ChatMessage(Role.SYSTEM, "You are terse."),
            new ChatMessage(Role.USER, "Bonjour ☕"),
            new ChatMessage(Role.ASSISTANT, "Salut !"),
            new ChatMessage(Role.USER, "Say hi in Japanese"),
            new ChatMessage(Role.USER, "and add music 🎵")),
        0.4,
        256);
  }

  /** Streams {@code model} with the defaults, expecting {@code expected}. */
  private ApplicationFailure streamFails(
      String model, ProviderFailureType expected, List<String> deltas) {
    return failure(provider(), endpoint(), request(model), expected, deltas);
  }

  /** The answer text computed from the transcript itself: every non-thought part, in order. */
  private String textOf(byte[] transcript) throws Exception {
    StringBuilder text = new StringBuilder();
    for (String event : utf8(transcript).split("\r\n\r\n")) {
      if (event.startsWith("data: ")) {
        JsonNode chunk = json.readTree(event.substring("data: ".length()));
        for (JsonNode part : chunk.path("candidates").path(0).path("content").path("parts")) {
          if (!part.path("thought").asBoolean(false)) {
            text.append(part.path("text").asText(""));
          }
        }
      }
    }
    return text.toString();
  }

  @Test
  void streamsTheTranscriptExactlyAndSendsTheRequestGeminiExpects() throws Exception {
    byte[] transcript = resource("/transcripts/gemini/stream-multibyte.sse");
    server.enqueue(sse(transcript));

    Recording recording = record(provider(), endpoint(), request("gemini-2.5-flash"));

    assertThat(recording.text()).isEqualTo(textOf(transcript)).isEqualTo(EXPECTED_TEXT);
    assertThat(recording.deltas())
        .containsExactly(
            "Café crème, naïve résumé — ",
            "日本語で「こんにちは」と言います。",
            " 🎵 Then \"encore\" — déjà vu!\n\n",
            "若水 🎶");
    assertThat(recording.text()).doesNotContain("Greeting the café");
    // Thinking tokens are billed as output: candidates 27 + thoughts 31.
    assertThat(recording.end().usage()).isEqualTo(new Usage(14, 58));
    assertThat(recording.end().finishReason()).isEqualTo("stop");

    RecordedRequest sent = server.takeRequest();
    assertThat(sent.getMethod()).isEqualTo("POST");
    assertThat(sent.getUrl().encodedPath())
        .isEqualTo("/v1beta/models/gemini-2.5-flash:streamGenerateContent");
    assertThat(sent.getUrl().query()).isEqualTo("alt=sse");
    assertThat(sent.getTarget()).doesNotContain(KEY).doesNotContain("key=");
    assertThat(sent.getHeaders().get("x-goog-api-key")).isEqualTo(KEY);
    assertThat(sent.getHeaders().get("Authorization")).isNull();
    assertThat(sent.getHeaders().get("Content-Type")).startsWith("application/json");
    assertThat(json.readTree(sent.getBody().utf8()))
        .isEqualTo(
            json.readTree(
                """
                {
                  "contents": [
                    {"role": "user", "parts": [{"text": "Bonjour ☕"}]},
                    {"role": "model", "parts": [{"text": "Salut !"}]},
                    {"role": "user", "parts": [
                      {"text": "Say hi in Japanese"}, {"text": "and add music 🎵"}]}
                  ],
                  "systemInstruction": {"parts": [{"text": "You are terse."}]},
                  "generationConfig": {"temperature": 0.4, "maxOutputTokens": 256}
                }
                """));
  }

  @Test
  void leavesOutGenerationConfigAndSystemInstructionWhenNotGiven() throws Exception {
    server.enqueue(sse(resource("/transcripts/gemini/stream-max-tokens.sse")));

    record(
        provider(),
        endpoint(),
        new ChatRequest(
            "gemini-2.0-flash", List.of(new ChatMessage(Role.USER, "Über…")), null, null));

    JsonNode body = json.readTree(server.takeRequest().getBody().utf8());
    assertThat(body.has("generationConfig")).isFalse();
    assertThat(body.has("systemInstruction")).isFalse();
    assertThat(body.get("contents").size()).isEqualTo(1);
  }

  @Test
  void acceptsModelIdsWithTheModelsPrefix() throws Exception {
    server.enqueue(sse(resource("/transcripts/gemini/stream-multibyte.sse")));

    record(provider(), endpoint(), request("models/gemini-2.5-flash"));

    assertThat(server.takeRequest().getUrl().encodedPath())
        .isEqualTo("/v1beta/models/gemini-2.5-flash:streamGenerateContent");
  }

  @Test
  void encodesAModelIdAsOnePathSegment() throws Exception {
    server.enqueue(sse(resource("/transcripts/gemini/stream-multibyte.sse")));

    record(provider(), endpoint(), request("my model?x=1#y"));

    RecordedRequest sent = server.takeRequest();
    assertThat(sent.getUrl().encodedPath())
        .isEqualTo("/v1beta/models/my%20model%3Fx=1%23y:streamGenerateContent");
    assertThat(sent.getUrl().query()).isEqualTo("alt=sse");
  }

  @ParameterizedTest
  @ValueSource(strings = {"models/../files", "tunedModels/x", "a/b", "..", "models/", " ", "x\\y"})
  void rejectsModelIdsThatWouldLeaveTheModelPath(String model) {
    streamFails(model, ProviderFailureType.ProviderInvalidRequest, new ArrayList<>());
    assertThat(server.getRequestCount()).isZero();
  }

  @Test
  void maxTokensEndsNormallyWithItsUsage() throws Exception {
    byte[] transcript = resource("/transcripts/gemini/stream-max-tokens.sse");
    server.enqueue(sse(transcript));

    Recording recording = record(provider(), endpoint(), request("gemini-2.0-flash"));

    assertThat(recording.text())
        .isEqualTo(textOf(transcript))
        .isEqualTo("Über den Wolken — muss die Freiheit wohl grenzenlos");
    assertThat(recording.end().finishReason()).isEqualTo("max_tokens");
    assertThat(recording.end().usage()).isEqualTo(new Usage(6, 16));
  }

  @Test
  void aSafetyStopIsRefusedAfterTheTextThatCameBefore() {
    server.enqueue(sse(resource("/transcripts/gemini/stream-safety.sse")));
    List<String> deltas = new ArrayList<>();

    ApplicationFailure failure =
        streamFails("gemini-2.0-flash", ProviderFailureType.ProviderRefused, deltas);

    assertThat(deltas).containsExactly("Sure — here is the first step: ");
    assertThat(failure.getOriginalMessage())
        .contains("SAFETY")
        .contains("HARM_CATEGORY_DANGEROUS_CONTENT");
  }

  @Test
  void aBlockedPromptIsRefused() {
    server.enqueue(sse(resource("/transcripts/gemini/stream-prompt-blocked.sse")));
    List<String> deltas = new ArrayList<>();

    ApplicationFailure failure =
        streamFails("gemini-2.0-flash", ProviderFailureType.ProviderRefused, deltas);

    assertThat(deltas).isEmpty();
    assertThat(failure.getOriginalMessage()).contains("PROHIBITED_CONTENT");
  }

  @Test
  void anErrorInsideTheStreamIsClassified() {
    server.enqueue(sse(resource("/transcripts/gemini/stream-error-event.sse")));
    List<String> deltas = new ArrayList<>();

    ApplicationFailure failure =
        streamFails("gemini-2.5-flash", ProviderFailureType.ProviderUnavailable, deltas);

    assertThat(deltas).containsExactly("Café crème, naïve résumé — ");
    assertThat(failure.getOriginalMessage()).contains("overloaded");
  }

  @Test
  void aStreamEndingWithoutFinishReasonIsBroken() throws Exception {
    byte[] transcript = resource("/transcripts/gemini/stream-truncated.sse");
    server.enqueue(sse(transcript));
    List<String> deltas = new ArrayList<>();

    streamFails("gemini-2.5-flash", ProviderFailureType.ProviderStreamBroken, deltas);

    assertThat(String.join("", deltas)).isEqualTo(textOf(transcript));
    assertThat(EXPECTED_TEXT).startsWith(textOf(transcript));
  }

  @Test
  void aConnectionDroppedMidBodyIsBrokenAfterDeliveringWhatCame() {
    server.enqueue(dropMidBody(sse(resource("/transcripts/gemini/stream-multibyte.sse"))));
    List<String> deltas = new ArrayList<>();

    streamFails("gemini-2.5-flash", ProviderFailureType.ProviderStreamBroken, deltas);

    assertThat(deltas).isNotEmpty();
    assertThat(EXPECTED_TEXT).startsWith(String.join("", deltas));
  }

  @Test
  void keepAliveCommentsFromAProxyAreIgnored() throws Exception {
    String transcript = utf8(resource("/transcripts/gemini/stream-multibyte.sse"));
    String withComments =
        ": keep-alive\r\n\r\n"
            + transcript.replace("\r\n\r\ndata: ", "\r\n\r\n: ping\r\n\r\ndata: ");
    server.enqueue(sse(withComments.getBytes(StandardCharsets.UTF_8)));

    assertThat(record(provider(), endpoint(), request("gemini-2.5-flash")).text())
        .isEqualTo(EXPECTED_TEXT);
  }

  @Test
  void aSlowFirstByteWithinTheReadTimeoutStillSucceeds() throws Exception {
    server.enqueue(
        delayed(
            sse(resource("/transcripts/gemini/stream-multibyte.sse")),
            Duration.ofMillis(300),
            Duration.ofMillis(300)));

    assertThat(record(provider(), endpoint(), request("gemini-2.5-flash")).text())
        .isEqualTo(EXPECTED_TEXT);
  }

  @Test
  void noByteWithinTheReadTimeoutIsATimeout() {
    server.enqueue(
        delayed(
            sse(resource("/transcripts/gemini/stream-multibyte.sse")),
            Duration.ofMillis(1500),
            Duration.ZERO));

    failure(
        provider(Duration.ofMillis(300)),
        endpoint(),
        request("gemini-2.5-flash"),
        ProviderFailureType.ProviderTimeout,
        new ArrayList<>());
  }

  @Test
  void cancellationClosesTheStreamPromptly() {
    server.enqueue(stallMidBody(sse(resource("/transcripts/gemini/stream-multibyte.sse"))));

    Cancelled cancelled =
        cancelAfterFirstDelta(
            provider(Duration.ofSeconds(5)),
            endpoint(),
            request("gemini-2.5-flash"),
            Duration.ZERO);

    assertThat(cancelled.thrown()).isInstanceOf(InterruptedException.class);
    assertThat(cancelled.deltas()).isNotEmpty();
    // The read timeout is 5 s and the server stalls forever: only the cancellation ends the call.
    assertThat(cancelled.returnedAfterCancel()).isLessThan(Duration.ofSeconds(2));
  }

  @ParameterizedTest(name = "{0} {1} → {2}")
  @CsvSource({
    "400, error-400-invalid-argument.json, ProviderInvalidRequest, supported range",
    "400, error-400-api-key-invalid.json, ProviderAuthFailed, API key not valid",
    "403, error-403-suspended.json, ProviderAuthFailed, has been suspended",
    "404, error-404-model.json, ProviderUnknownModel, models/gemini-9.9-ultra is not found",
    "500, error-500.json, ProviderUnavailable, An internal error",
    "503, error-503.json, ProviderUnavailable, overloaded",
  })
  void errorBodiesAreClassified(
      int status, String file, ProviderFailureType expected, String messagePart) {
    server.enqueue(jsonResponse(status, resource("/transcripts/gemini/" + file)));

    ApplicationFailure failure = streamFails("gemini-9.9-ultra", expected, new ArrayList<>());

    assertThat(failure.getOriginalMessage()).contains("HTTP " + status).contains(messagePart);
    assertKeyNeverIn(failure, KEY);
  }

  @Test
  void aKeyGoogleEchoesIsRedacted() {
    server.enqueue(jsonResponse(403, resource("/transcripts/gemini/error-403-suspended.json")));

    ApplicationFailure failure =
        streamFails("gemini-2.5-flash", ProviderFailureType.ProviderAuthFailed, new ArrayList<>());

    assertThat(utf8(resource("/transcripts/gemini/error-403-suspended.json"))).contains(KEY);
    assertThat(failure.getOriginalMessage()).contains("api_key:***");
    assertKeyNeverIn(failure, KEY);
  }

  @Test
  void anUnknownModelReportedAsA400IsStillAnUnknownModel() {
    server.enqueue(
        jsonResponse(
            400,
            """
            {"error": {"code": 400, "status": "INVALID_ARGUMENT",
              "message": "models/gemini-nope is not found for API version v1beta."}}
            """
                .getBytes(StandardCharsets.UTF_8)));

    streamFails("gemini-nope", ProviderFailureType.ProviderUnknownModel, new ArrayList<>());
  }

  @Test
  void a429WithoutRetryAfterWaitsForTheBodysRetryDelay() {
    server.enqueue(jsonResponse(429, resource("/transcripts/gemini/error-429-retry-info.json")));

    ApplicationFailure failure =
        streamFails("gemini-2.5-flash", ProviderFailureType.ProviderRateLimited, new ArrayList<>());

    assertThat(failure.getNextRetryDelay()).isEqualTo(Duration.ofSeconds(30));
    assertThat(failure.getOriginalMessage()).contains("RESOURCE_EXHAUSTED");
    assertKeyNeverIn(failure, KEY);
  }

  @Test
  void aRetryAfterHeaderWinsOverTheBody() {
    server.enqueue(
        jsonResponse(429, resource("/transcripts/gemini/error-429-retry-info.json"))
            .newBuilder()
            .setHeader("Retry-After", "7")
            .build());

    ApplicationFailure failure =
        streamFails("gemini-2.5-flash", ProviderFailureType.ProviderRateLimited, new ArrayList<>());

    assertThat(failure.getNextRetryDelay()).isEqualTo(Duration.ofSeconds(7));
  }

  @Test
  void aNonJsonErrorBodyIsPassedOnRaw() {
    server.enqueue(
        new MockResponse.Builder()
            .code(502)
            .setHeader("Content-Type", "text/html")
            .body("<html><title>502 Bad Gateway</title></html>")
            .build());

    ApplicationFailure failure =
        streamFails("gemini-2.5-flash", ProviderFailureType.ProviderUnavailable, new ArrayList<>());

    assertThat(failure.getOriginalMessage()).contains("502 Bad Gateway");
  }

  @Test
  void retryDelaysAreProtobufDurations() throws Exception {
    JsonNode error =
        json.readTree(
            """
            {"details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo",
                          "retryDelay": "12.595337758s"}]}
            """);

    assertThat(GeminiProvider.retryDelay(error)).isEqualTo(Duration.ofNanos(12_595_337_758L));
    assertThat(GeminiProvider.retryDelay(json.readTree("{}"))).isNull();
  }

  @Test
  void listsTheGeneratingModelsAcrossPages() throws Exception {
    server.enqueue(jsonResponse(200, resource("/transcripts/gemini/models-page1.json")));
    server.enqueue(jsonResponse(200, resource("/transcripts/gemini/models-page2.json")));

    List<ModelInfo> models = provider().listModels(endpoint());

    assertThat(models)
        .containsExactly(
            new ModelInfo("gemini-2.5-flash", "Gemini 2.5 Flash", 1048576, 65536),
            new ModelInfo("gemini-2.0-flash", "Gemini 2.0 Flash", 1048576, 8192),
            new ModelInfo(
                "gemini-2.5-flash-preview-tts", "Gemini 2.5 Flash Preview TTS", 8192, 16384));
    RecordedRequest first = server.takeRequest();
    assertThat(first.getMethod()).isEqualTo("GET");
    assertThat(first.getUrl().encodedPath()).isEqualTo("/v1beta/models");
    assertThat(first.getUrl().queryParameter("pageSize")).isEqualTo("1000");
    assertThat(first.getUrl().queryParameter("pageToken")).isNull();
    assertThat(first.getHeaders().get("x-goog-api-key")).isEqualTo(KEY);
    assertThat(first.getTarget()).doesNotContain(KEY);
    RecordedRequest second = server.takeRequest();
    assertThat(second.getUrl().queryParameter("pageToken"))
        .isEqualTo("Ch1tb2RlbHMvZ2VtaW5pLTIuNS1mbGFzaA==");
  }

  @Test
  void followsAtMostABoundedNumberOfPages() throws Exception {
    for (int i = 0; i < GeminiProvider.MAX_MODEL_PAGES + 2; i++) {
      server.enqueue(jsonResponse(200, "{\"models\": [], \"nextPageToken\": \"page" + i + "\"}"));
    }

    assertThat(provider().listModels(endpoint())).isEmpty();
    assertThat(server.getRequestCount()).isEqualTo(GeminiProvider.MAX_MODEL_PAGES);
  }

  @Test
  void aBadKeyOnTheModelListIsAnAuthFailure() {
    server.enqueue(
        jsonResponse(400, resource("/transcripts/gemini/error-400-api-key-invalid.json")));

    assertThatThrownBy(() -> provider().listModels(endpoint()))
        .isInstanceOfSatisfying(
            ApplicationFailure.class, f -> assertThat(f.getType()).isEqualTo("ProviderAuthFailed"));
  }

  @Test
  void theServerEndpointExistsOnlyWithAKey() {
    GeminiProvider withKey =
        new GeminiProvider(
            new GeminiProperties(KEY, null, Duration.ofSeconds(1)), WireTestSupport.http(), json);
    GeminiProvider withoutKey =
        new GeminiProvider(
            new GeminiProperties(" ", null, Duration.ofSeconds(1)), WireTestSupport.http(), json);

    assertThat(withKey.serverEndpoint())
        .hasValueSatisfying(e -> {
          assertThat(e.baseUrl()).isEqualTo("https://generativelanguage.googleapis.com");
          assertThat(e.apiKey()).isEqualTo(KEY);
          assertThat(e.userSupplied()).isFalse();
        });
    assertThat(withoutKey.serverEndpoint()).isEmpty();
    assertThat(withoutKey.defaultBaseUrl()).isEqualTo("https://generativelanguage.googleapis.com");
    assertThat(withKey.id()).isEqualTo("gemini");
  }
}
