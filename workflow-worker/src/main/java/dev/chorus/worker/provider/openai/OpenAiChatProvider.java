package dev.chorus.worker.provider.openai;

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
import io.temporal.failure.ApplicationFailure;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import okhttp3.MediaType;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;

/**
 * The Chat Completions protocol, streamed: OpenAI itself and every OpenAI-compatible server (vLLM,
 * llama.cpp, LM Studio, OpenRouter, Groq...). One class serves both; {@link OpenAiSettings} holds
 * where they differ.
 *
 * <p>Only {@code choices[0].delta.content} is answer text. Reasoning deltas ({@code
 * reasoning_content}, OpenRouter's {@code reasoning}) are not shown as the answer; a {@code
 * refusal} and the {@code content_filter} finish reason end in {@code ProviderRefused}; an {@code
 * error} object inside the stream is classified like an HTTP error body.
 */
public class OpenAiChatProvider implements ChatProvider {
  static final String DONE = "[DONE]";
  private static final MediaType JSON = MediaType.get("application/json");

  private final String id;
  private final ProviderKind kind;
  private final OpenAiSettings settings;
  private final ProviderHttp http;
  private final ProviderJson json;

  OpenAiChatProvider(
      String id, ProviderKind kind, OpenAiSettings settings, ProviderHttp http, ObjectMapper json) {
    this.id = id;
    this.kind = kind;
    this.settings = settings;
    this.http = http;
    this.json = new ProviderJson(json, id);
  }

  @Override
  public String id() {
    return id;
  }

  @Override
  public ProviderKind kind() {
    return kind;
  }

  @Override
  public Optional<Endpoint> serverEndpoint() {
    if (settings.keyRequired() && settings.apiKey() == null) {
      return Optional.empty();
    }
    return Optional.of(new Endpoint(settings.baseUrl(), settings.apiKey(), false));
  }

  @Override
  public String defaultBaseUrl() {
    return settings.baseUrl();
  }

  @Override
  public StreamEnd stream(
      Endpoint endpoint, ChatRequest request, StreamSink sink, Cancellation cancellation)
      throws InterruptedException {
    Request call =
        requestTo(endpoint, "/chat/completions")
            .header("Accept", "text/event-stream")
            .post(RequestBody.create(json.write(body(request)), JSON))
            .build();
    Response response =
        http.open(
            endpoint,
            call,
            settings.readTimeout(),
            cancellation,
            (status, body, retryAfter) ->
                OpenAiErrors.http(status, body, retryAfter, endpoint, json));
    Reader reader = new Reader(sink, endpoint);
    ProviderHttp.readSse(response, cancellation, reader::onEvent);
    return reader.end();
  }

  @Override
  public List<ModelInfo> listModels(Endpoint endpoint) throws InterruptedException {
    try {
      String answer =
          http.fetch(
              endpoint,
              requestTo(endpoint, "/models").get().build(),
              settings.readTimeout(),
              (status, body, retryAfter) ->
                  OpenAiErrors.http(status, body, retryAfter, endpoint, json));
      List<ModelInfo> models = models(answer);
      return models.isEmpty() && !settings.staticModels().isEmpty() ? staticModels() : models;
    } catch (ApplicationFailure failed) {
      // Many small servers have no (or a broken) model list: the configured one stands in.
      if (settings.staticModels().isEmpty()) {
        throw failed;
      }
      return staticModels();
    }
  }

  private List<ModelInfo> staticModels() {
    return settings.staticModels().stream().map(ModelInfo::of).toList();
  }

  /** The request every call starts from: URL, and the key only in a header, only when present. */
  private Request.Builder requestTo(Endpoint endpoint, String path) {
    Request.Builder builder =
        endpoint.authorizeBearer(new Request.Builder().url(endpoint.url(path)));
    if (settings.organization() != null && serverOwned(endpoint)) {
      builder.header("OpenAI-Organization", settings.organization());
    }
    return builder;
  }

  /**
   * The organization belongs to the server's account: a user's own key (or a user's base URL) must
   * not carry it, or OpenAI rejects the key as not a member.
   */
  private boolean serverOwned(Endpoint endpoint) {
    return !endpoint.userSupplied()
        && settings.apiKey() != null
        && Objects.equals(endpoint.apiKey(), settings.apiKey());
  }

  ObjectNode body(ChatRequest request) {
    ObjectNode body = json.object();
    body.put("model", request.model());
    ArrayNode messages = body.putArray("messages");
    for (ChatMessage message : request.messages()) {
      messages
          .addObject()
          .put("role", message.role().name().toLowerCase(Locale.ROOT))
          .put("content", message.content());
    }
    body.put("stream", true);
    if (settings.includeUsage()) {
      body.putObject("stream_options").put("include_usage", true);
    }
    if (request.temperature() != null) {
      body.put("temperature", request.temperature());
    }
    if (request.maxTokens() != null) {
      body.put(settings.maxTokensField(), request.maxTokens());
    }
    return body;
  }

  List<ModelInfo> models(String body) {
    JsonNode root = json.read(body, ProviderFailureType.ProviderInvalidRequest, "model list");
    JsonNode data = root == null ? null : root.get("data");
    if (data == null || !data.isArray()) {
      throw ProviderFailure.of(
              ProviderFailureType.ProviderInvalidRequest,
              "malformed " + id + " model list: no data array")
          .exception();
    }
    List<ModelInfo> models = new ArrayList<>();
    for (JsonNode model : data) {
      String modelId = model.path("id").asText("");
      if (modelId.isBlank()) {
        continue;
      }
      // OpenAI lists ids only; OpenRouter adds name/context_length/top_provider, vLLM
      // max_model_len, Groq context_window and max_completion_tokens.
      String name = model.path("name").asText(null);
      Integer context =
          firstInt(model, "context_length", "max_model_len", "context_window", "context_size");
      Integer maxOutput = firstInt(model.path("top_provider"), "max_completion_tokens");
      if (maxOutput == null) {
        maxOutput = firstInt(model, "max_completion_tokens", "max_output_tokens");
      }
      models.add(new ModelInfo(modelId, name, context, maxOutput));
    }
    return models;
  }

  private static Integer firstInt(JsonNode node, String... fields) {
    for (String field : fields) {
      JsonNode value = node.get(field);
      if (value != null && value.canConvertToInt() && value.asInt() > 0) {
        return value.asInt();
      }
    }
    return null;
  }

  @Override
  public String toString() {
    return "OpenAiChatProvider[" + id + ", " + kind.id() + ", " + settings.baseUrl() + "]";
  }

  /** Reads one stream's chunks; lives for one call, on the calling thread. */
  private final class Reader {
    private final StreamSink sink;
    private final Endpoint endpoint;
    private final StringBuilder refusal = new StringBuilder();
    private boolean done;
    private String finishReason;
    private long inputTokens;
    private long outputTokens;

    Reader(StreamSink sink, Endpoint endpoint) {
      this.sink = sink;
      this.endpoint = endpoint;
    }

    void onEvent(String type, String data) {
      if (done || data == null || data.isBlank()) {
        return; // nothing counts after [DONE]
      }
      if (DONE.equals(data.strip())) {
        done = true;
        return;
      }
      JsonNode chunk = json.read(data, ProviderFailureType.ProviderStreamBroken, "stream chunk");
      if ("error".equals(type) || isError(chunk)) {
        throw OpenAiErrors.inStream(chunk, endpoint).exception();
      }
      JsonNode usage = chunk.get("usage");
      if (usage != null && usage.isObject()) {
        // The last usage seen wins: some servers repeat running totals on every chunk.
        inputTokens = usage.path("prompt_tokens").asLong(0);
        outputTokens = usage.path("completion_tokens").asLong(0);
      }
      JsonNode choices = chunk.get("choices");
      if (choices == null || !choices.isArray()) {
        return;
      }
      for (JsonNode choice : choices) {
        if (choice.path("index").asInt(0) != 0) {
          continue; // we ask for one choice (n = 1)
        }
        JsonNode delta = choice.path("delta");
        JsonNode content = delta.get("content");
        if (content != null && content.isTextual() && !content.asText().isEmpty()) {
          sink.onDelta(content.asText());
        }
        JsonNode refused = delta.get("refusal");
        if (refused != null && refused.isTextual()) {
          refusal.append(refused.asText());
        }
        JsonNode finish = choice.get("finish_reason");
        if (finish != null && finish.isTextual() && !finish.asText().isBlank()) {
          finishReason = finish.asText().toLowerCase(Locale.ROOT);
        }
      }
    }

    private boolean isError(JsonNode chunk) {
      JsonNode error = chunk.get("error");
      return (error != null && !error.isNull())
          || "error".equals(chunk.path("object").asText(null));
    }

    StreamEnd end() {
      if (!refusal.isEmpty()) {
        throw ProviderFailure.of(
                ProviderFailureType.ProviderRefused,
                "the model refused: " + endpoint.redact(refusal.toString()))
            .exception();
      }
      if ("content_filter".equals(finishReason)) {
        throw ProviderFailure.of(
                ProviderFailureType.ProviderRefused,
                "the provider's content filter stopped the answer (finish_reason content_filter)")
            .exception();
      }
      if ("error".equals(finishReason)) {
        throw ProviderFailure.of(
                ProviderFailureType.ProviderUnavailable,
                "the provider ended the answer with finish_reason error")
            .exception();
      }
      if (!done && (settings.requireDone() || finishReason == null)) {
        throw ProviderFailure.of(
                ProviderFailureType.ProviderStreamBroken,
                finishReason == null
                    ? "the stream ended before the answer finished (no finish_reason, no [DONE])"
                    : "the stream ended after finish_reason " + finishReason + " without [DONE]")
            .exception();
      }
      return new StreamEnd(new Usage(inputTokens, outputTokens), finishReason);
    }
  }
}
