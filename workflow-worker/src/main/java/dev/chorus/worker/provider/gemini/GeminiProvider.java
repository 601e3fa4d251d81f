package dev.chorus.worker.provider.gemini;

import static dev.chorus.worker.provider.ProviderJson.integer;
import static dev.chorus.worker.provider.ProviderJson.text;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
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
import dev.chorus.worker.provider.ProviderJson;
import dev.chorus.worker.provider.StreamEnd;
import dev.chorus.worker.provider.StreamSink;
import java.math.BigDecimal;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import okhttp3.HttpUrl;
import okhttp3.MediaType;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import org.springframework.stereotype.Component;

/**
 * Google Gemini through the Generative Language API ({@code v1beta}): {@code
 * models/{model}:streamGenerateContent?alt=sse}, one {@code GenerateContentResponse} per SSE event.
 *
 * <p>The key travels in the {@code x-goog-api-key} header only, never as {@code ?key=} (URLs end up
 * in logs and error messages). There is no {@code [DONE]}: a stream is complete once a chunk
 * carried a {@code finishReason}. Usage is cumulative, so the last {@code usageMetadata} wins;
 * thinking tokens ({@code thoughtsTokenCount}) are counted as output, because Google bills them as
 * output. Thought summaries ({@code thought: true} parts) are not answer text and are skipped.
 */
@Component
public class GeminiProvider implements ChatProvider {
  static final String MODELS_PATH = "/v1beta/models";
  static final String KEY_HEADER = "x-goog-api-key";

  /** Model list pages followed at most: enough for every Gemini model, bounded. */
  static final int MAX_MODEL_PAGES = 10;

  /** Finish reasons that mean Google's filters stopped the answer. */
  private static final Set<String> REFUSALS =
      Set.of(
          "SAFETY",
          "RECITATION",
          "BLOCKLIST",
          "PROHIBITED_CONTENT",
          "SPII",
          "IMAGE_SAFETY",
          "IMAGE_PROHIBITED_CONTENT",
          "IMAGE_RECITATION");

  private static final Pattern MODEL_NOT_FOUND =
      Pattern.compile("models/\\S+ is not (found|supported)", Pattern.CASE_INSENSITIVE);
  private static final Pattern RETRY_DELAY = Pattern.compile("(\\d+(?:\\.\\d+)?)s");
  private static final MediaType JSON = MediaType.get("application/json; charset=utf-8");

  private final GeminiProperties properties;
  private final ProviderHttp http;
  private final ProviderJson json;

  public GeminiProvider(GeminiProperties properties, ProviderHttp http, ObjectMapper json) {
    this.properties = properties;
    this.http = http;
    this.json = new ProviderJson(json, "Gemini");
  }

  @Override
  public String id() {
    return "gemini";
  }

  @Override
  public ProviderKind kind() {
    return ProviderKind.GEMINI;
  }

  @Override
  public Optional<Endpoint> serverEndpoint() {
    return properties.hasKey()
        ? Optional.of(new Endpoint(properties.baseUrl(), properties.apiKey(), false))
        : Optional.empty();
  }

  @Override
  public String defaultBaseUrl() {
    return properties.baseUrl();
  }

  @Override
  public StreamEnd stream(
      Endpoint endpoint, ChatRequest request, StreamSink sink, Cancellation cancellation)
      throws InterruptedException {
    HttpUrl url =
        endpoint
            .url(MODELS_PATH)
            .newBuilder()
            .addPathSegment(modelId(request.model()) + ":streamGenerateContent")
            .addQueryParameter("alt", "sse")
            .build();
    Request httpRequest =
        endpoint
            .authorize(new Request.Builder(), KEY_HEADER)
            .url(url)
            .header("Accept", "text/event-stream")
            .post(RequestBody.create(json.write(body(request)), JSON))
            .build();
    Response response =
        http.open(
            endpoint,
            httpRequest,
            properties.readTimeout(),
            cancellation,
            (status, body, retryAfter) -> classify(status, body, retryAfter, endpoint));
    ChunkReader reader = new ChunkReader(sink, endpoint);
    ProviderHttp.readSse(response, cancellation, (type, data) -> reader.onChunk(data));
    return reader.end();
  }

  @Override
  public List<ModelInfo> listModels(Endpoint endpoint) throws InterruptedException {
    List<ModelInfo> models = new ArrayList<>();
    String pageToken = null;
    for (int page = 0; page < MAX_MODEL_PAGES; page++) {
      HttpUrl.Builder url =
          endpoint.url(MODELS_PATH).newBuilder().addQueryParameter("pageSize", "1000");
      if (pageToken != null) {
        url.addQueryParameter("pageToken", pageToken);
      }
      Request httpRequest =
          endpoint.authorize(new Request.Builder(), KEY_HEADER).url(url.build()).get().build();
      String answer =
          http.fetch(
              endpoint,
              httpRequest,
              null,
              (status, body, retryAfter) -> classify(status, body, retryAfter, endpoint));
      JsonNode root = json.read(answer, ProviderFailureType.ProviderStreamBroken, "model list");
      for (JsonNode model : root.path("models")) {
        if (generates(model)) {
          models.add(
              new ModelInfo(
                  stripPrefix(model.path("name").asText()),
                  text(model, "displayName"),
                  integer(model, "inputTokenLimit"),
                  integer(model, "outputTokenLimit")));
        }
      }
      pageToken = root.path("nextPageToken").asText("");
      if (pageToken.isEmpty()) {
        break;
      }
    }
    return models;
  }

  /**
   * The model id as the URL path segment wants it: {@code models/} prefix optional, nothing that
   * could walk to another path.
   */
  static String modelId(String model) {
    String id = model == null ? "" : model;
    if (id.startsWith("models/")) {
      id = id.substring("models/".length());
    }
    if (id.isBlank() || id.contains("/") || id.contains("\\") || id.contains("..")) {
      throw ProviderFailure.of(
              ProviderFailureType.ProviderInvalidRequest, "invalid Gemini model id: '" + id + "'")
          .exception();
    }
    return id;
  }

  /** The request body: system turns become {@code systemInstruction}, same-role turns merge. */
  ObjectNode body(ChatRequest request) {
    ObjectNode root = json.object();
    ArrayNode contents = json.array();
    ArrayNode system = null;
    String lastRole = null;
    ArrayNode lastParts = null;
    for (ChatMessage message : request.messages()) {
      if (message.content() == null || message.content().isEmpty()) {
        continue; // Gemini rejects empty text parts
      }
      if (message.role() == ChatMessage.Role.SYSTEM) {
        if (system == null) {
          system = json.array();
        }
        system.addObject().put("text", message.content());
        continue;
      }
      String role = message.role() == ChatMessage.Role.USER ? "user" : "model";
      if (!role.equals(lastRole)) {
        ObjectNode content = contents.addObject();
        content.put("role", role);
        lastParts = content.putArray("parts");
        lastRole = role;
      }
      lastParts.addObject().put("text", message.content());
    }
    if (contents.isEmpty()) {
      throw ProviderFailure.of(
              ProviderFailureType.ProviderInvalidRequest,
              "a Gemini request needs at least one user turn")
          .exception();
    }
    root.set("contents", contents);
    if (system != null) {
      root.putObject("systemInstruction").set("parts", system);
    }
    ObjectNode config = json.object();
    if (request.temperature() != null) {
      config.put("temperature", request.temperature());
    }
    if (request.maxTokens() != null) {
      config.put("maxOutputTokens", request.maxTokens());
    }
    if (!config.isEmpty()) {
      root.set("generationConfig", config);
    }
    return root;
  }

  /**
   * Reads a Google error body ({@code {"error": {code, message, status, details}}}) into a failure;
   * a body-level {@code RetryInfo.retryDelay} stands in for a missing {@code Retry-After}.
   */
  ProviderFailure classify(int status, String body, Duration retryAfter, Endpoint endpoint) {
    JsonNode error = json.tryRead(body).path("error");
    String message = errorMessage(error, body, status, endpoint);
    if (retryAfter == null) {
      retryAfter = retryDelay(error);
    }
    ProviderFailure failure = ProviderHttp.byStatus(status, message, retryAfter);
    ProviderFailureType refined = refine(error, status, message);
    return refined == null
        ? failure
        : new ProviderFailure(refined, failure.message(), status, failure.retryAfter());
  }

  /** An {@code error} object inside a 200 stream: same words, but no HTTP status to show. */
  private ProviderFailure midStreamFailure(JsonNode error, Endpoint endpoint) {
    int code = error.path("code").asInt(500);
    ProviderFailure byBody = classify(code, "{\"error\":" + error + "}", null, endpoint);
    return new ProviderFailure(
        byBody.type(), "error in the stream: " + byBody.message(), null, byBody.retryAfter());
  }

  private static ProviderFailureType refine(JsonNode error, int status, String message) {
    String googleStatus = error.path("status").asText("");
    for (JsonNode detail : error.path("details")) {
      if (detail.path("reason").asText("").startsWith("API_KEY_")) {
        return ProviderFailureType.ProviderAuthFailed;
      }
    }
    if (message.contains("API key not valid") || message.contains("API key expired")) {
      return ProviderFailureType.ProviderAuthFailed;
    }
    if (status == 404
        || "NOT_FOUND".equals(googleStatus)
        || MODEL_NOT_FOUND.matcher(message).find()) {
      return ProviderFailureType.ProviderUnknownModel;
    }
    if ("RESOURCE_EXHAUSTED".equals(googleStatus)) {
      return ProviderFailureType.ProviderRateLimited;
    }
    if ("PERMISSION_DENIED".equals(googleStatus) || "UNAUTHENTICATED".equals(googleStatus)) {
      return ProviderFailureType.ProviderAuthFailed;
    }
    if ("UNAVAILABLE".equals(googleStatus) || "INTERNAL".equals(googleStatus)) {
      return ProviderFailureType.ProviderUnavailable;
    }
    return null;
  }

  private static String errorMessage(JsonNode error, String body, int status, Endpoint endpoint) {
    String message;
    if (error.isObject() && !error.path("message").asText("").isBlank()) {
      String googleStatus = error.path("status").asText("");
      message =
          googleStatus.isEmpty()
              ? error.get("message").asText()
              : googleStatus + ": " + error.get("message").asText();
    } else if (error.isTextual()) {
      message = error.asText();
    } else if (body != null && !body.isBlank()) {
      message = body;
    } else {
      message = "Gemini answered HTTP " + status;
    }
    // Google echoes keys in a few messages (Consumer 'api_key:...'): never pass one on.
    return endpoint.redact(message);
  }

  /** {@code google.rpc.RetryInfo.retryDelay}, a protobuf duration such as {@code "12.59s"}. */
  static Duration retryDelay(JsonNode error) {
    for (JsonNode detail : error.path("details")) {
      if (detail.path("@type").asText("").endsWith("google.rpc.RetryInfo")) {
        Matcher delay = RETRY_DELAY.matcher(detail.path("retryDelay").asText("").strip());
        if (delay.matches()) {
          BigDecimal seconds = new BigDecimal(delay.group(1));
          return Duration.ofNanos(seconds.movePointRight(9).longValue());
        }
      }
    }
    return null;
  }

  private static boolean generates(JsonNode model) {
    for (JsonNode method : model.path("supportedGenerationMethods")) {
      String name = method.asText();
      if (name.equals("generateContent") || name.equals("streamGenerateContent")) {
        return true;
      }
    }
    return false;
  }

  private static String stripPrefix(String name) {
    return name.startsWith("models/") ? name.substring("models/".length()) : name;
  }

  /** One stream's state: what was seen so far, and whether Google said it was done. */
  private final class ChunkReader {
    private final StreamSink sink;
    private final Endpoint endpoint;
    private String finishReason;
    private long inputTokens;
    private long outputTokens;

    ChunkReader(StreamSink sink, Endpoint endpoint) {
      this.sink = sink;
      this.endpoint = endpoint;
    }

    void onChunk(String data) {
      JsonNode chunk = json.read(data, ProviderFailureType.ProviderStreamBroken, "stream chunk");
      JsonNode error = chunk.path("error");
      if (error.isObject()) {
        throw midStreamFailure(error, endpoint).exception();
      }
      JsonNode usage = chunk.path("usageMetadata");
      if (usage.isObject()) {
        inputTokens = usage.path("promptTokenCount").asLong(0);
        outputTokens =
            usage.path("candidatesTokenCount").asLong(0)
                + usage.path("thoughtsTokenCount").asLong(0);
      }
      String blockReason = chunk.path("promptFeedback").path("blockReason").asText("");
      if (!blockReason.isEmpty()) {
        throw ProviderFailure.of(
                ProviderFailureType.ProviderRefused, "Gemini blocked the prompt: " + blockReason)
            .exception();
      }
      JsonNode candidate = chunk.path("candidates").path(0);
      for (JsonNode part : candidate.path("content").path("parts")) {
        JsonNode text = part.path("text");
        if (text.isTextual() && !part.path("thought").asBoolean(false)) {
          String delta = text.asText();
          if (!delta.isEmpty()) {
            sink.onDelta(delta);
          }
        }
      }
      String reason = candidate.path("finishReason").asText("");
      if (!reason.isEmpty()) {
        finishReason = reason;
        if (REFUSALS.contains(reason)) {
          throw ProviderFailure.of(
                  ProviderFailureType.ProviderRefused,
                  "Gemini stopped the answer: " + reason + blockedCategories(candidate))
              .exception();
        }
      }
    }

    StreamEnd end() {
      if (finishReason == null) {
        throw ProviderFailure.of(
                ProviderFailureType.ProviderStreamBroken,
                "the Gemini stream ended before a finishReason")
            .exception();
      }
      return new StreamEnd(
          new Usage(inputTokens, outputTokens), finishReason.toLowerCase(Locale.ROOT));
    }

    private static String blockedCategories(JsonNode candidate) {
      List<String> blocked = new ArrayList<>();
      for (JsonNode rating : candidate.path("safetyRatings")) {
        if (rating.path("blocked").asBoolean(false)) {
          blocked.add(rating.path("category").asText());
        }
      }
      return blocked.isEmpty() ? "" : " " + blocked;
    }
  }
}
