package dev.chorus.worker.provider.openai;

import static dev.chorus.worker.provider.WireTestSupport.assertKeyNeverIn;
import static dev.chorus.worker.provider.WireTestSupport.cancelAfterFirstDelta;
import static dev.chorus.worker.provider.WireTestSupport.delayed;
import static dev.chorus.worker.provider.WireTestSupport.dropMidBody;
import static dev.chorus.worker.provider.WireTestSupport.failure;
import static dev.chorus.worker.provider.WireTestSupport.jsonResponse;
import static dev.chorus.worker.provider.WireTestSupport.record;
import static dev.chorus.worker.provider.WireTestSupport.sse;
import static dev.chorus.worker.provider.WireTestSupport.stallMidBody;
import static dev.chorus.worker.provider.openai.OpenAiTranscripts.before;
import static dev.chorus.worker.provider.openai.OpenAiTranscripts.bytes;
import static dev.chorus.worker.provider.openai.OpenAiTranscripts.contentDeltas;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

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
import dev.chorus.worker.provider.ProviderHttp;
import dev.chorus.worker.provider.WireTestSupport;
import dev.chorus.worker.provider.WireTestSupport.Cancelled;
import dev.chorus.worker.provider.WireTestSupport.Recording;
import io.temporal.failure.ApplicationFailure;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import mockwebserver3.junit5.StartStop;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** OpenAI itself, against a fake server replaying OpenAI's wire format byte for byte. */
class OpenAiProviderTest {
  static final String KEY = "sk-test-SECRET0c9d8e7f6a5b4c3d2e1f7890";
  static final String ORG = "org-Xq1Chorus";
  static final ProviderHttp HTTP = WireTestSupport.http();
  static final ObjectMapper JSON = ChorusJson.mapper();

  @StartStop final MockWebServer server = new MockWebServer();

  @AfterAll
  static void closeHttp() {
    HTTP.destroy();
  }

  String baseUrl() {
    return server.url("/v1").toString();
  }

  OpenAiChatProvider provider(String key, Duration readTimeout) {
    return OpenAiProviders.openAi(
        new OpenAiProperties(key, baseUrl(), ORG, readTimeout), HTTP, JSON);
  }

  OpenAiChatProvider provider() {
    return provider(KEY, null);
  }

  Endpoint serverEndpoint() {
    return provider().serverEndpoint().orElseThrow();
  }

  static ChatRequest request() {
    return new ChatRequest(
        "gpt-4o-mini",
        List.of(
            new ChatMessage(Role.SYSTEM, "Tu es un barista. Réponds brièvement."),
            new ChatMessage(Role.USER, "Un café ? 🎵"),
            new ChatMessage(Role.ASSISTANT, "Bien sûr."),
            new ChatMessage(Role.USER, "Et en japonais — 日本語?")),
        0.7,
        256);
  }

  /** Streams the standard request with the server's key, expecting {@code expected}. */
  ApplicationFailure streamFails(ProviderFailureType expected, List<String> deltas) {
    return failure(provider(), serverEndpoint(), request(), expected, deltas);
  }

  @Test
  void streamsTheTranscriptExactlyAndSendsTheRequestOpenAiExpects() throws Exception {
    byte[] transcript = bytes("openai-chat.sse");
    server.enqueue(sse(transcript));

    Recording recording = record(provider(), serverEndpoint(), request());

    // Computed independently from the transcript's JSON, and also spelled out.
    assertThat(recording.deltas()).isEqualTo(contentDeltas(transcript));
    assertThat(recording.text())
        .isEqualTo("Café au lait — 日本語 “naïve” 🎵\n\nSay \"déjà vu\".")
        .isEqualTo(String.join("", contentDeltas(transcript)));
    assertThat(recording.end().usage()).isEqualTo(new Usage(24, 20));
    assertThat(recording.end().finishReason()).isEqualTo("stop");

    RecordedRequest sent = server.takeRequest();
    assertThat(sent.getMethod()).isEqualTo("POST");
    assertThat(sent.getUrl().encodedPath()).isEqualTo("/v1/chat/completions");
    assertThat(sent.getUrl().query()).isNull();
    assertThat(sent.getHeaders().get("Authorization")).isEqualTo("Bearer " + KEY);
    assertThat(sent.getHeaders().get("OpenAI-Organization")).isEqualTo(ORG);
    assertThat(sent.getHeaders().get("Content-Type")).startsWith("application/json");
    assertThat(sent.getHeaders().get("Accept")).isEqualTo("text/event-stream");
    JsonNode body = JSON.readTree(sent.getBody().utf8());
    assertThat(body.get("model").asText()).isEqualTo("gpt-4o-mini");
    assertThat(body.get("stream").asBoolean()).isTrue();
    assertThat(body.at("/stream_options/include_usage").asBoolean()).isTrue();
    assertThat(body.get("temperature").asDouble()).isEqualTo(0.7);
    assertThat(body.get("max_completion_tokens").asInt()).isEqualTo(256);
    assertThat(body.has("max_tokens")).as("max_tokens is deprecated on OpenAI").isFalse();
    assertThat(body.get("messages").toString())
        .isEqualTo(
            "[{\"role\":\"system\",\"content\":\"Tu es un barista. Réponds brièvement.\"},"
                + "{\"role\":\"user\",\"content\":\"Un café ? 🎵\"},"
                + "{\"role\":\"assistant\",\"content\":\"Bien sûr.\"},"
                + "{\"role\":\"user\",\"content\":\"Et en japonais — 日本語?\"}]");
  }

  @Test
  void leavesOutTemperatureAndMaxTokensWhenTheAgentSetsNone() throws Exception {
    server.enqueue(sse(bytes("openai-chat.sse")));

    record(
        provider(),
        serverEndpoint(),
        new ChatRequest("gpt-4o", List.of(new ChatMessage(Role.USER, "hi")), null, null));

    JsonNode body = JSON.readTree(server.takeRequest().getBody().utf8());
    assertThat(body.has("temperature")).isFalse();
    assertThat(body.has("max_completion_tokens")).isFalse();
    assertThat(body.has("max_tokens")).isFalse();
  }

  @Test
  void theServerEndpointExistsOnlyWithAKey() {
    assertThat(provider(null, null).serverEndpoint()).isEmpty();
    assertThat(provider("  ", null).serverEndpoint()).isEmpty();
    assertThat(provider(KEY, null).serverEndpoint()).contains(new Endpoint(baseUrl(), KEY, false));
    assertThat(provider().id()).isEqualTo("openai");
    assertThat(provider().kind()).isEqualTo(ProviderKind.OPENAI);
    assertThat(provider().defaultBaseUrl()).isEqualTo(baseUrl());
    assertThat(new OpenAiProperties(null, "", null, null).baseUrl())
        .isEqualTo("https://api.openai.com/v1");
    assertThat(new OpenAiProperties(KEY, null, null, null).toString()).doesNotContain(KEY);
  }

  @Test
  void aUsersOwnKeyGoesWithoutTheServersOrganizationAndNoKeyMeansNoAuthorization()
      throws Exception {
    server.enqueue(sse(bytes("openai-chat.sse")));
    server.enqueue(sse(bytes("openai-chat.sse")));

    record(provider(), new Endpoint(baseUrl(), "sk-user-own-key", false), request());
    record(provider(), new Endpoint(baseUrl(), null, false), request());

    RecordedRequest users = server.takeRequest();
    assertThat(users.getHeaders().get("Authorization")).isEqualTo("Bearer sk-user-own-key");
    assertThat(users.getHeaders().get("OpenAI-Organization")).isNull();
    RecordedRequest keyless = server.takeRequest();
    assertThat(keyless.getHeaders().get("Authorization")).isNull();
    assertThat(keyless.getHeaders().get("OpenAI-Organization")).isNull();
  }

  @Test
  void lengthIsAnOrdinaryEndWithItsFinishReason() throws Exception {
    byte[] transcript = bytes("openai-length.sse");
    server.enqueue(sse(transcript));

    Recording recording = record(provider(), serverEndpoint(), request());

    assertThat(recording.text()).isEqualTo("Once upon a tíme 🎵");
    assertThat(recording.deltas()).isEqualTo(contentDeltas(transcript));
    assertThat(recording.end().finishReason()).isEqualTo("length");
    assertThat(recording.end().usage()).isEqualTo(new Usage(12, 5));
  }

  @Test
  void aRefusalIsRefusedAndNeverShownAsTheAnswer() {
    server.enqueue(sse(bytes("openai-refusal.sse")));
    List<String> deltas = new ArrayList<>();

    ApplicationFailure failure = streamFails(ProviderFailureType.ProviderRefused, deltas);

    assertThat(deltas).isEmpty();
    assertThat(failure.getOriginalMessage())
        .isEqualTo("the model refused: I'm sorry, I can’t help with that.");
  }

  @Test
  void theContentFilterFinishReasonIsRefused() {
    server.enqueue(sse(bytes("openai-content-filter.sse")));
    List<String> deltas = new ArrayList<>();

    ApplicationFailure failure = streamFails(ProviderFailureType.ProviderRefused, deltas);

    assertThat(String.join("", deltas)).isEqualTo("Here is how");
    assertThat(failure.getOriginalMessage()).contains("content_filter");
  }

  @Test
  void anErrorInsideTheStreamIsClassifiedAfterTheDeltasBeforeIt() {
    byte[] transcript = bytes("openai-midstream-error.sse");
    server.enqueue(sse(transcript));
    List<String> deltas = new ArrayList<>();

    ApplicationFailure failure = streamFails(ProviderFailureType.ProviderUnavailable, deltas);

    assertThat(deltas).isEqualTo(contentDeltas(transcript));
    assertThat(String.join("", deltas)).isEqualTo("The question “é");
    assertThat(failure.getOriginalMessage())
        .contains("The server had an error while processing your request");
  }

  @Test
  void aStreamThatEndsWithoutDoneIsBrokenEvenAfterItsFinishReason() {
    byte[] transcript = bytes("openai-chat.sse");
    server.enqueue(sse(before(transcript, "data: [DONE]")));
    List<String> deltas = new ArrayList<>();

    ApplicationFailure failure = streamFails(ProviderFailureType.ProviderStreamBroken, deltas);

    assertThat(deltas).isEqualTo(contentDeltas(transcript));
    assertThat(failure.getOriginalMessage()).contains("without [DONE]");
  }

  @Test
  void aStreamCutInTheMiddleOfAChunkIsBrokenAndKeepsWhatCameBefore() {
    byte[] transcript = bytes("openai-chat.sse");
    // Cut inside the chunk carrying 語, in the middle of its UTF-8 bytes.
    int cut = WireTestSupport.utf8(transcript).indexOf("語");
    byte[] truncated =
        OpenAiTranscripts.prefix(
            transcript,
            WireTestSupport.utf8(transcript)
                    .substring(0, cut)
                    .getBytes(StandardCharsets.UTF_8)
                    .length
                + 1);
    server.enqueue(sse(truncated));
    List<String> deltas = new ArrayList<>();

    streamFails(ProviderFailureType.ProviderStreamBroken, deltas);

    assertThat(String.join("", deltas)).isEqualTo("Café au lait — 日本");
  }

  @Test
  void aConnectionDroppedMidBodyIsBrokenAndTheDeltasBeforeTheDropArrive() {
    byte[] transcript = bytes("openai-chat.sse");
    server.enqueue(dropMidBody(sse(transcript)));
    List<String> deltas = new ArrayList<>();

    streamFails(ProviderFailureType.ProviderStreamBroken, deltas);

    String expected = String.join("", contentDeltas(transcript));
    assertThat(deltas).isNotEmpty();
    assertThat(String.join("", deltas)).isNotEqualTo(expected);
    assertThat(expected).startsWith(String.join("", deltas));
  }

  @Test
  void aSlowFirstByteWithinTheReadTimeoutStillStreams() throws Exception {
    server.enqueue(
        delayed(sse(bytes("openai-chat.sse")), Duration.ofMillis(300), Duration.ofMillis(300)));
    OpenAiChatProvider provider = provider(KEY, Duration.ofMillis(800));

    Recording recording = record(provider, serverEndpoint(), request());

    assertThat(recording.text())
        .isEqualTo(String.join("", contentDeltas(bytes("openai-chat.sse"))));
  }

  @Test
  void noByteWithinTheReadTimeoutIsATimeout() {
    server.enqueue(delayed(sse(bytes("openai-chat.sse")), Duration.ZERO, Duration.ofSeconds(2)));
    OpenAiChatProvider provider = provider(KEY, Duration.ofMillis(500));

    long started = System.nanoTime();
    failure(
        provider,
        serverEndpoint(),
        request(),
        ProviderFailureType.ProviderTimeout,
        new ArrayList<>());

    assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofMillis(1800));
  }

  @Test
  void cancellingMidStreamInterruptsPromptly() {
    server.enqueue(stallMidBody(sse(bytes("openai-chat.sse"))));

    Cancelled cancelled =
        cancelAfterFirstDelta(
            provider(KEY, Duration.ofSeconds(30)),
            serverEndpoint(),
            request(),
            Duration.ofMillis(200));

    assertThat(cancelled.thrown()).isInstanceOf(InterruptedException.class);
    assertThat(cancelled.deltas()).isNotEmpty();
    assertThat(cancelled.returnedAfterCancel()).isLessThan(Duration.ofSeconds(1));
  }

  @Test
  void aMalformedChunkIsABrokenStream() {
    server.enqueue(
        sse(
            "data: {\"choices\":[{\"delta\":{\"content\":\"é\"\n\n"
                .getBytes(StandardCharsets.UTF_8)));

    ApplicationFailure failure =
        streamFails(ProviderFailureType.ProviderStreamBroken, new ArrayList<>());

    assertThat(failure.getOriginalMessage()).contains("malformed");
  }

  @Test
  void aJsonAnswerToAStreamingRequestIsRejected() {
    server.enqueue(
        new MockResponse.Builder()
            .code(200)
            .setHeader("Content-Type", "application/json")
            .body("{\"choices\":[]}")
            .build());

    streamFails(ProviderFailureType.ProviderInvalidRequest, new ArrayList<>());
  }

  static Stream<Arguments> errorBodies() {
    return Stream.of(
        Arguments.of(
            400, "openai-400-context-length.json", ProviderFailureType.ProviderInvalidRequest),
        Arguments.of(400, "openai-400-invalid-prompt.json", ProviderFailureType.ProviderRefused),
        Arguments.of(401, "openai-401-invalid-key.json", ProviderFailureType.ProviderAuthFailed),
        Arguments.of(403, "openai-403-region.json", ProviderFailureType.ProviderAuthFailed),
        Arguments.of(
            404, "openai-404-model-not-found.json", ProviderFailureType.ProviderUnknownModel),
        Arguments.of(
            400, "openai-404-model-not-found.json", ProviderFailureType.ProviderUnknownModel),
        Arguments.of(429, "openai-429-rate-limit.json", ProviderFailureType.ProviderRateLimited),
        Arguments.of(
            429, "openai-429-insufficient-quota.json", ProviderFailureType.ProviderAuthFailed),
        Arguments.of(500, "openai-500.json", ProviderFailureType.ProviderUnavailable),
        Arguments.of(503, "openai-503.json", ProviderFailureType.ProviderUnavailable),
        Arguments.of(502, "nginx-502.html", ProviderFailureType.ProviderUnavailable));
  }

  @ParameterizedTest(name = "{0} {1} -> {2}")
  @MethodSource("errorBodies")
  void errorBodiesAreClassifiedWithTheProvidersMessage(
      int status, String file, ProviderFailureType expected) throws Exception {
    String body = OpenAiTranscripts.text("errors/" + file);
    server.enqueue(jsonResponse(status, body));

    ApplicationFailure failure = streamFails(expected, new ArrayList<>());

    String message = failure.getOriginalMessage();
    assertThat(message).startsWith("HTTP " + status + ": ");
    if (file.endsWith(".json")) {
      String providerMessage = JSON.readTree(body).at("/error/message").asText();
      assertThat(message)
          .contains(providerMessage.substring(0, Math.min(25, providerMessage.length())));
      assertThat(message).doesNotContain("\"error\"");
    } else {
      assertThat(message).contains("502 Bad Gateway");
    }
    assertThat(message).doesNotContain("SECRET");
    assertKeyNeverIn(failure, KEY);
  }

  @Test
  void aRateLimitHonoursRetryAfter() {
    server.enqueue(
        jsonResponse(429, OpenAiTranscripts.text("errors/openai-429-rate-limit.json"))
            .newBuilder()
            .setHeader("Retry-After", "7")
            .build());

    ApplicationFailure failure =
        streamFails(ProviderFailureType.ProviderRateLimited, new ArrayList<>());

    assertThat(failure.getNextRetryDelay()).isEqualTo(Duration.ofSeconds(7));
  }

  @Test
  void withoutRetryAfterTheMessagesTryAgainHintIsTheDelay() {
    server.enqueue(jsonResponse(429, OpenAiTranscripts.text("errors/openai-429-rate-limit.json")));

    ApplicationFailure failure =
        streamFails(ProviderFailureType.ProviderRateLimited, new ArrayList<>());

    assertThat(failure.getNextRetryDelay()).isEqualTo(Duration.ofMillis(2400));
    assertThat(OpenAiErrors.tryAgainIn("Please try again in 6m0s."))
        .isEqualTo(Duration.ofMinutes(6));
    assertThat(OpenAiErrors.tryAgainIn("Please try again in 20ms."))
        .isEqualTo(Duration.ofMillis(20));
    assertThat(OpenAiErrors.tryAgainIn("Please try again in 1m30.5s"))
        .isEqualTo(Duration.ofMillis(90_500));
    assertThat(OpenAiErrors.tryAgainIn("no hint")).isNull();
  }

  @Test
  void exhaustedQuotaIsNotRetriedAndSaysWhy() {
    server.enqueue(
        jsonResponse(429, OpenAiTranscripts.text("errors/openai-429-insufficient-quota.json"))
            .newBuilder()
            .setHeader("Retry-After", "20")
            .build());

    ApplicationFailure failure =
        streamFails(ProviderFailureType.ProviderAuthFailed, new ArrayList<>());

    assertThat(failure.isNonRetryable()).isTrue();
    assertThat(failure.getNextRetryDelay()).isNull();
    assertThat(failure.getOriginalMessage()).contains("quota exhausted").contains("billing");
  }

  @Test
  void theKeyNeverAppearsInAFailureEvenWhenTheProviderEchoesIt() {
    String masked = KEY.substring(0, 8) + "*".repeat(20) + KEY.substring(KEY.length() - 4);
    server.enqueue(
        jsonResponse(
            401,
            "{\"error\":{\"message\":\"Incorrect API key provided: "
                + masked
                + ". Also seen: "
                + KEY
                + "\",\"type\":\"invalid_request_error\",\"param\":null,"
                + "\"code\":\"invalid_api_key\"}}"));

    ApplicationFailure failure =
        streamFails(ProviderFailureType.ProviderAuthFailed, new ArrayList<>());

    assertThat(failure.getOriginalMessage())
        .doesNotContain(KEY)
        .doesNotContain("SECRET")
        .doesNotContain(KEY.substring(KEY.length() - 4))
        .contains("Incorrect API key provided");
    assertKeyNeverIn(failure, KEY);
  }

  @Test
  void listsModelsFromTheModelsEndpoint() throws Exception {
    server.enqueue(
        jsonResponse(
            200,
            """
            {
              "object": "list",
              "data": [
                {"id": "gpt-4o-mini", "object": "model", "created": 1721172741, "owned_by": "system"},
                {"id": "o3-mini", "object": "model", "created": 1737146383, "owned_by": "system"}
              ]
            }
            """));

    List<ModelInfo> models = provider().listModels(serverEndpoint());

    assertThat(models).containsExactly(ModelInfo.of("gpt-4o-mini"), ModelInfo.of("o3-mini"));
    RecordedRequest sent = server.takeRequest();
    assertThat(sent.getMethod()).isEqualTo("GET");
    assertThat(sent.getUrl().encodedPath()).isEqualTo("/v1/models");
    assertThat(sent.getHeaders().get("Authorization")).isEqualTo("Bearer " + KEY);
  }

  @Test
  void aFailingModelListIsClassified() {
    server.enqueue(jsonResponse(401, OpenAiTranscripts.text("errors/openai-401-invalid-key.json")));

    Throwable thrown = catchThrowable(() -> provider().listModels(serverEndpoint()));

    assertThat(thrown).isInstanceOf(ApplicationFailure.class);
    assertThat(((ApplicationFailure) thrown).getType())
        .isEqualTo(ProviderFailureType.ProviderAuthFailed.name());
  }
}
