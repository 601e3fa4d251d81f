package dev.chorus.worker.provider.openai;

import static dev.chorus.worker.provider.WireTestSupport.assertKeyNeverIn;
import static dev.chorus.worker.provider.WireTestSupport.failure;
import static dev.chorus.worker.provider.WireTestSupport.jsonResponse;
import static dev.chorus.worker.provider.WireTestSupport.record;
import static dev.chorus.worker.provider.WireTestSupport.sse;
import static dev.chorus.worker.provider.openai.OpenAiTranscripts.before;
import static dev.chorus.worker.provider.openai.OpenAiTranscripts.bytes;
import static dev.chorus.worker.provider.openai.OpenAiTranscripts.contentDeltas;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.chorus.model.agent.ProviderFailureType;
import dev.chorus.model.agent.ProviderKind;
import dev.chorus.model.agent.Usage;
import dev.chorus.model.json.ChorusJson;
import dev.chorus.worker.provider.ChatMessage;
import dev.chorus.worker.provider.ChatMessage.Role;
import dev.chorus.worker.provider.ChatProvider;
import dev.chorus.worker.provider.ChatRequest;
import dev.chorus.worker.provider.Endpoint;
import dev.chorus.worker.provider.ModelInfo;
import dev.chorus.worker.provider.ProviderHttp;
import dev.chorus.worker.provider.WireTestSupport;
import dev.chorus.worker.provider.WireTestSupport.Recording;
import dev.chorus.worker.provider.openai.CompatibleProperties.CompatibleEndpoint;
import io.temporal.failure.ApplicationFailure;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.ConfigurationPropertySources;
import org.springframework.core.env.MapPropertySource;
import org.springframework.core.env.StandardEnvironment;
import org.springframework.core.env.SystemEnvironmentPropertySource;

/**
 * Named OpenAI-compatible endpoints against transcripts shaped like llama.cpp's server,
 * llama-cpp-python (sse-starlette), vLLM and OpenRouter.
 */
class OpenAiCompatibleTest {
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

  static CompatibleEndpoint endpoint(String baseUrl, String key) {
    return new CompatibleEndpoint(baseUrl, key, null, true, "max_tokens", List.of(), false);
  }

  ChatProvider provider(String name, CompatibleEndpoint endpoint) {
    List<ChatProvider> providers =
        OpenAiProviders.compatible(new CompatibleProperties(Map.of(name, endpoint)), HTTP, JSON);
    assertThat(providers).hasSize(1);
    return providers.getFirst();
  }

  ChatProvider local() {
    return provider("local", endpoint(baseUrl(), null));
  }

  static ChatRequest request() {
    return new ChatRequest(
        "local-model",
        List.of(new ChatMessage(Role.SYSTEM, "Sois bref."), new ChatMessage(Role.USER, "Salut 🎵")),
        0.2,
        128);
  }

  /** Streams the standard request to the provider's own endpoint, expecting {@code expected}. */
  static ApplicationFailure streamFails(
      ChatProvider provider, ProviderFailureType expected, List<String> deltas) {
    return failure(provider, provider.serverEndpoint().orElseThrow(), request(), expected, deltas);
  }

  static Stream<Arguments> transcripts() {
    return Stream.of(
        Arguments.of("llamacpp-server.sse", "こんにちは！ Café ☕ and 🎵.", new Usage(19, 14), "stop"),
        Arguments.of(
            "llama-cpp-python.sse",
            "Voilà: crème brûlée, 寿司, 🎵 — \"quoted\"\nfin.",
            new Usage(0, 0),
            "stop"),
        Arguments.of("vllm.sse", "Ein Café, bitte 🎵 東京.", new Usage(31, 7), "stop"),
        Arguments.of("openrouter.sse", "Hola! Ça va  日本語🎵", new Usage(42, 8), "stop"),
        Arguments.of(
            "llamacpp-server-no-done.sse", "Bonjour à tous — 日本 🎵", new Usage(15, 6), "stop"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("transcripts")
  void streamsEachServersTranscriptExactly(
      String file, String expectedText, Usage usage, String finishReason) throws Exception {
    byte[] transcript = bytes(file);
    server.enqueue(sse(transcript));
    ChatProvider provider = local();

    Recording recording = record(provider, provider.serverEndpoint().orElseThrow(), request());

    assertThat(recording.deltas()).isEqualTo(contentDeltas(transcript));
    assertThat(recording.text()).isEqualTo(expectedText);
    assertThat(recording.end().usage()).isEqualTo(usage);
    assertThat(recording.end().finishReason()).isEqualTo(finishReason);
  }

  @Test
  void reasoningDeltasAreNotTheAnswer() throws Exception {
    server.enqueue(sse(bytes("llamacpp-server.sse")));

    Recording recording = record(local(), local().serverEndpoint().orElseThrow(), request());

    assertThat(recording.text()).doesNotContain("The user wants");
  }

  @Test
  void sendsMaxTokensUsageRequestAndNoAuthorizationWithoutAKey() throws Exception {
    server.enqueue(sse(bytes("vllm.sse")));
    ChatProvider provider = local();

    record(provider, provider.serverEndpoint().orElseThrow(), request());

    RecordedRequest sent = server.takeRequest();
    assertThat(sent.getUrl().encodedPath()).isEqualTo("/v1/chat/completions");
    assertThat(sent.getHeaders().get("Authorization")).isNull();
    assertThat(sent.getHeaders().get("OpenAI-Organization")).isNull();
    JsonNode body = JSON.readTree(sent.getBody().utf8());
    assertThat(body.get("model").asText()).isEqualTo("local-model");
    assertThat(body.get("stream").asBoolean()).isTrue();
    assertThat(body.at("/stream_options/include_usage").asBoolean()).isTrue();
    assertThat(body.get("max_tokens").asInt()).isEqualTo(128);
    assertThat(body.has("max_completion_tokens")).isFalse();
    assertThat(body.get("temperature").asDouble()).isEqualTo(0.2);
    assertThat(body.at("/messages/0/role").asText()).isEqualTo("system");
    assertThat(body.at("/messages/1/content").asText()).isEqualTo("Salut 🎵");
  }

  @Test
  void aKeyIsSentAsBearerAndTheSwitchesChangeTheRequest() throws Exception {
    server.enqueue(sse(bytes("llama-cpp-python.sse")));
    ChatProvider provider =
        provider(
            "groq",
            new CompatibleEndpoint(
                baseUrl(), "gsk_key", null, false, "max_completion_tokens", List.of(), false));

    record(provider, provider.serverEndpoint().orElseThrow(), request());

    RecordedRequest sent = server.takeRequest();
    assertThat(sent.getHeaders().get("Authorization")).isEqualTo("Bearer gsk_key");
    JsonNode body = JSON.readTree(sent.getBody().utf8());
    assertThat(body.has("stream_options")).as("include-usage: false").isFalse();
    assertThat(body.get("max_completion_tokens").asInt()).isEqualTo(128);
    assertThat(body.has("max_tokens")).isFalse();
  }

  @Test
  void aFinishReasonThenEndOfBodyIsCompleteUnlessDoneIsRequired() throws Exception {
    byte[] transcript = bytes("llamacpp-server-no-done.sse");
    server.enqueue(sse(transcript));
    ChatProvider strict =
        provider(
            "strict",
            new CompatibleEndpoint(baseUrl(), null, null, true, "max_tokens", List.of(), true));
    List<String> deltas = new ArrayList<>();

    ApplicationFailure failure =
        streamFails(strict, ProviderFailureType.ProviderStreamBroken, deltas);

    assertThat(deltas).isEqualTo(contentDeltas(transcript));
    assertThat(failure.getOriginalMessage()).contains("without [DONE]");
  }

  @Test
  void aStreamEndingBeforeAnyFinishReasonIsBroken() {
    byte[] transcript = bytes("vllm.sse");
    server.enqueue(
        sse(
            before(
                transcript,
                "data: {\"id\":\"chatcmpl-8c0b1f7e4b2a4d6f9c3e5a7b1d2f4e6a\",\"object\":\"chat.completion.chunk\",\"created\":1730112233,\"model\":\"meta-llama/Llama-3.1-8B-Instruct\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\" 東京\"}")));
    List<String> deltas = new ArrayList<>();

    streamFails(local(), ProviderFailureType.ProviderStreamBroken, deltas);

    assertThat(String.join("", deltas)).isEqualTo("Ein Café, bitte 🎵");
  }

  @Test
  void openRoutersErrorChunkIsClassifiedAfterTheDeltasBeforeIt() {
    byte[] transcript = bytes("openrouter-midstream-error.sse");
    server.enqueue(sse(transcript));
    List<String> deltas = new ArrayList<>();

    ApplicationFailure failure =
        streamFails(local(), ProviderFailureType.ProviderUnavailable, deltas);

    assertThat(deltas).isEqualTo(contentDeltas(transcript));
    assertThat(String.join("", deltas)).isEqualTo("Half an ansẃer");
    assertThat(failure.getOriginalMessage()).contains("Provider disconnected unexpectedly");
  }

  @Test
  void vllmsFlatErrorChunkIsClassified() {
    server.enqueue(sse(bytes("vllm-midstream-error.sse")));
    List<String> deltas = new ArrayList<>();

    ApplicationFailure failure =
        streamFails(local(), ProviderFailureType.ProviderUnavailable, deltas);

    assertThat(String.join("", deltas)).isEqualTo("Ein Café");
    assertThat(failure.getOriginalMessage()).contains("CUDA out of memory");
  }

  static Stream<Arguments> streamErrors() {
    return Stream.of(
        Arguments.of(
            "{\"error\":{\"code\":429,\"message\":\"Rate limit exceeded: limit_rpm/google/gemini\"}}",
            ProviderFailureType.ProviderRateLimited),
        Arguments.of(
            "{\"error\":{\"message\":\"Rate limit reached. Please try again in 1.5s.\","
                + "\"type\":\"tokens\",\"code\":\"rate_limit_exceeded\"}}",
            ProviderFailureType.ProviderRateLimited),
        Arguments.of(
            "{\"error\":{\"code\":\"model_not_found\",\"message\":\"no such model\"}}",
            ProviderFailureType.ProviderUnknownModel),
        Arguments.of(
            "{\"error\":{\"code\":400,\"message\":\"bad\"},\"choices\":[]}",
            ProviderFailureType.ProviderInvalidRequest),
        Arguments.of(
            "{\"error\":{\"code\":\"content_filter\",\"message\":\"filtered\"}}",
            ProviderFailureType.ProviderRefused),
        Arguments.of("{\"error\":\"something broke\"}", ProviderFailureType.ProviderUnavailable));
  }

  @ParameterizedTest(name = "{1}")
  @MethodSource("streamErrors")
  void errorObjectsInsideTheStreamAreClassified(String error, ProviderFailureType expected) {
    String body =
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"é\"},\"finish_reason\":null}]}\n\n"
            + "data: "
            + error
            + "\n\n";
    server.enqueue(sse(body.getBytes(StandardCharsets.UTF_8)));
    List<String> deltas = new ArrayList<>();

    ApplicationFailure failure = streamFails(local(), expected, deltas);

    assertThat(deltas).containsExactly("é");
    if (error.contains("1.5s")) {
      assertThat(failure.getNextRetryDelay()).isEqualTo(Duration.ofMillis(1500));
    }
  }

  @Test
  void anEventNamedErrorIsAnError() {
    server.enqueue(
        sse(
            "event: error\ndata: {\"message\":\"overloaded\",\"type\":\"server_error\"}\n\n"
                .getBytes(StandardCharsets.UTF_8)));

    streamFails(local(), ProviderFailureType.ProviderUnavailable, new ArrayList<>());
  }

  static Stream<Arguments> errorBodies() {
    return Stream.of(
        Arguments.of(402, "openrouter-402.json", ProviderFailureType.ProviderAuthFailed),
        Arguments.of(403, "openrouter-403-moderation.json", ProviderFailureType.ProviderRefused),
        Arguments.of(
            400, "openrouter-400-bad-model.json", ProviderFailureType.ProviderUnknownModel),
        Arguments.of(404, "vllm-404-model.json", ProviderFailureType.ProviderUnknownModel),
        Arguments.of(400, "llamacpp-400-context.json", ProviderFailureType.ProviderInvalidRequest));
  }

  @ParameterizedTest(name = "{0} {1} -> {2}")
  @MethodSource("errorBodies")
  void compatibleErrorBodiesAreClassified(int status, String file, ProviderFailureType expected)
      throws Exception {
    String body = OpenAiTranscripts.text("errors/" + file);
    server.enqueue(jsonResponse(status, body));
    String key = "or-v1-SECRETKEYabc";
    ChatProvider provider = provider("openrouter", endpoint(baseUrl(), key));

    ApplicationFailure failure = streamFails(provider, expected, new ArrayList<>());

    JsonNode root = JSON.readTree(body);
    String message =
        root.has("error") ? root.at("/error/message").asText() : root.get("message").asText();
    assertThat(failure.getOriginalMessage()).contains(message);
    assertKeyNeverIn(failure, key);
  }

  @Test
  void aServerEchoingTheKeyNeverGetsItIntoTheFailure() {
    String key = "lmstudio-SECRET-42";
    server.enqueue(jsonResponse(401, "{\"error\":\"Invalid API key: " + key + "\"}"));
    ChatProvider provider = provider("lmstudio", endpoint(baseUrl(), key));

    ApplicationFailure failure =
        streamFails(provider, ProviderFailureType.ProviderAuthFailed, new ArrayList<>());

    assertThat(failure.getOriginalMessage()).contains("Invalid API key: ***");
    assertKeyNeverIn(failure, key);
  }

  @Test
  void listsModelsWithWhatTheServerTellsAboutThem() throws Exception {
    server.enqueue(
        jsonResponse(
            200,
            """
            {"data":[
              {"id":"anthropic/claude-3.5-haiku","name":"Anthropic: Claude 3.5 Haiku",
               "context_length":200000,"top_provider":{"context_length":200000,
               "max_completion_tokens":8192,"is_moderated":true}},
              {"id":"meta-llama/Llama-3.1-8B-Instruct","object":"model","owned_by":"vllm",
               "max_model_len":131072},
              {"id":"llama-3.3-70b-versatile","object":"model","context_window":131072,
               "max_completion_tokens":32768}
            ]}
            """));
    ChatProvider provider = provider("router", endpoint(baseUrl(), "k"));

    List<ModelInfo> models = provider.listModels(provider.serverEndpoint().orElseThrow());

    assertThat(models)
        .containsExactly(
            new ModelInfo(
                "anthropic/claude-3.5-haiku", "Anthropic: Claude 3.5 Haiku", 200000, 8192),
            new ModelInfo("meta-llama/Llama-3.1-8B-Instruct", null, 131072, null),
            new ModelInfo("llama-3.3-70b-versatile", null, 131072, 32768));
    RecordedRequest sent = server.takeRequest();
    assertThat(sent.getUrl().encodedPath()).isEqualTo("/v1/models");
    assertThat(sent.getHeaders().get("Authorization")).isEqualTo("Bearer k");
  }

  @Test
  void aFailingModelListFallsBackToTheConfiguredOne() throws Exception {
    server.enqueue(new MockResponse.Builder().code(404).body("Not Found").build());
    ChatProvider provider =
        provider(
            "tiny",
            new CompatibleEndpoint(
                baseUrl(), null, null, true, "max_tokens", List.of("phi-3", "qwen2.5"), false));

    assertThat(provider.listModels(provider.serverEndpoint().orElseThrow()))
        .containsExactly(ModelInfo.of("phi-3"), ModelInfo.of("qwen2.5"));
  }

  @Test
  void withoutAConfiguredListAFailingModelListIsAFailure() {
    server.enqueue(new MockResponse.Builder().code(503).body("busy").build());

    assertThatThrownBy(() -> local().listModels(local().serverEndpoint().orElseThrow()))
        .isInstanceOf(ApplicationFailure.class)
        .extracting(e -> ((ApplicationFailure) e).getType())
        .isEqualTo(ProviderFailureType.ProviderUnavailable.name());
  }

  @Test
  void eachNamedEndpointIsAProviderWithItsOwnIdAndAServerEndpointWithOrWithoutKey() {
    Map<String, CompatibleEndpoint> named = new LinkedHashMap<>();
    named.put("lmstudio", endpoint("http://127.0.0.1:1234/v1", null));
    named.put("groq", endpoint("https://api.groq.com/openai/v1", "gsk_x"));

    List<ChatProvider> providers =
        OpenAiProviders.compatible(new CompatibleProperties(named), HTTP, JSON);

    assertThat(providers).extracting(ChatProvider::id).containsExactly("groq", "lmstudio");
    assertThat(providers).allMatch(p -> p.kind() == ProviderKind.OPENAI_COMPATIBLE);
    assertThat(providers.get(0).serverEndpoint())
        .contains(new Endpoint("https://api.groq.com/openai/v1", "gsk_x", false));
    assertThat(providers.get(1).serverEndpoint())
        .contains(new Endpoint("http://127.0.0.1:1234/v1", null, false));
    assertThat(providers.get(1).defaultBaseUrl()).isEqualTo("http://127.0.0.1:1234/v1");
    assertThat(providers.get(0).supportsPrefill()).isFalse();
  }

  static Stream<Arguments> badEndpoints() {
    return Stream.of(
        Arguments.of("Groq", endpoint("https://x/v1", null), "not a valid provider name"),
        Arguments.of("-x", endpoint("https://x/v1", null), "not a valid provider name"),
        Arguments.of("openai", endpoint("https://x/v1", null), "built-in provider"),
        Arguments.of("ollama", endpoint("https://x/v1", null), "built-in provider"),
        Arguments.of("mock", endpoint("https://x/v1", null), "built-in provider"),
        Arguments.of("nourl", endpoint(null, null), "base-url is required"),
        Arguments.of("badurl", endpoint("ftp://x/v1", null), "not an http(s) URL"),
        Arguments.of("creds", endpoint("https://u:p@x/v1", null), "must not carry credentials"),
        Arguments.of(
            "field",
            new CompatibleEndpoint("https://x/v1", null, null, true, "maxTokens", List.of(), false),
            "max-tokens-field"));
  }

  @ParameterizedTest(name = "{0}: {2}")
  @MethodSource("badEndpoints")
  void badNamedEndpointsStopTheWorkerWithAClearMessage(
      String name, CompatibleEndpoint endpoint, String message) {
    Map<String, CompatibleEndpoint> named = new LinkedHashMap<>();
    named.put(name, endpoint);

    assertThatThrownBy(
            () -> OpenAiProviders.compatible(new CompatibleProperties(named), HTTP, JSON))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining(message)
        .hasMessageNotContaining(":p@");
  }

  @Test
  void namedEndpointsBindFromYamlStylePropertiesAndFromTheEnvironment() {
    StandardEnvironment environment = new StandardEnvironment();
    environment
        .getPropertySources()
        .addFirst(
            new MapPropertySource(
                "yaml",
                Map.of(
                    "chorus.providers.compatible.lmstudio.base-url", "http://127.0.0.1:1234/v1",
                    "chorus.providers.compatible.lmstudio.include-usage", "false",
                    "chorus.providers.compatible.lmstudio.models[0]", "qwen2.5-7b",
                    "chorus.providers.compatible.lmstudio.read-timeout", "5m")));
    // Named like the real one: only then does Spring map CHORUS_..._BASEURL to base-url.
    environment
        .getPropertySources()
        .replace(
            StandardEnvironment.SYSTEM_ENVIRONMENT_PROPERTY_SOURCE_NAME,
            new SystemEnvironmentPropertySource(
                StandardEnvironment.SYSTEM_ENVIRONMENT_PROPERTY_SOURCE_NAME,
                Map.of(
                    "CHORUS_PROVIDERS_COMPATIBLE_GROQ_BASEURL", "https://api.groq.com/openai/v1",
                    "CHORUS_PROVIDERS_COMPATIBLE_GROQ_APIKEY", "gsk_env",
                    "CHORUS_PROVIDERS_COMPATIBLE_GROQ_MAXTOKENSFIELD", "max_completion_tokens")));

    CompatibleProperties properties =
        new Binder(ConfigurationPropertySources.get(environment))
            .bind("chorus.providers", CompatibleProperties.class)
            .get();

    CompatibleEndpoint lmstudio = properties.compatible().get("lmstudio");
    assertThat(lmstudio.baseUrl()).isEqualTo("http://127.0.0.1:1234/v1");
    assertThat(lmstudio.includeUsage()).isFalse();
    assertThat(lmstudio.maxTokensField()).isEqualTo("max_tokens");
    assertThat(lmstudio.models()).containsExactly("qwen2.5-7b");
    assertThat(lmstudio.readTimeout()).isEqualTo(Duration.ofMinutes(5));
    assertThat(lmstudio.requireDone()).isFalse();
    CompatibleEndpoint groq = properties.compatible().get("groq");
    assertThat(groq.baseUrl()).isEqualTo("https://api.groq.com/openai/v1");
    assertThat(groq.apiKey()).isEqualTo("gsk_env");
    assertThat(groq.includeUsage()).isTrue();
    assertThat(groq.maxTokensField()).isEqualTo("max_completion_tokens");
    assertThat(groq.toString()).doesNotContain("gsk_env");
  }
}
