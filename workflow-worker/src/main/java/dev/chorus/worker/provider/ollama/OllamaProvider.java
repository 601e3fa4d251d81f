package dev.chorus.worker.provider.ollama;

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
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;
import okhttp3.MediaType;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import org.springframework.stereotype.Component;

/**
 * Ollama's native chat API: {@code POST /api/chat} with {@code stream: true} answers with
 * newline-delimited JSON, one object per delta, and a last object with {@code done: true}, the
 * {@code done_reason} and the token counts. An error after the answer started arrives as a line
 * {@code {"error": "..."}} on the 200 stream; before, as the body of a non-2xx answer.
 *
 * <p>The answer text is {@code message.content} only; a thinking model's {@code message.thinking}
 * is not part of it.
 */
@Component
public class OllamaProvider implements ChatProvider {
  private static final Pattern MODEL_NOT_FOUND =
      Pattern.compile("model\\b.*\\bnot found", Pattern.CASE_INSENSITIVE);
  private static final MediaType JSON = MediaType.get("application/json; charset=utf-8");

  private final OllamaProperties properties;
  private final ProviderHttp http;
  private final ProviderJson json;

  public OllamaProvider(OllamaProperties properties, ProviderHttp http, ObjectMapper json) {
    this.properties = properties;
    this.http = http;
    this.json = new ProviderJson(json, "Ollama");
  }

  @Override
  public String id() {
    return "ollama";
  }

  @Override
  public ProviderKind kind() {
    return ProviderKind.OLLAMA;
  }

  @Override
  public Optional<Endpoint> serverEndpoint() {
    return properties.baseUrl().isEmpty()
        ? Optional.empty()
        : Optional.of(new Endpoint(properties.baseUrl(), properties.apiKey(), false));
  }

  @Override
  public String defaultBaseUrl() {
    return properties.baseUrl().isEmpty()
        ? OllamaProperties.DEFAULT_BASE_URL
        : properties.baseUrl();
  }

  @Override
  public StreamEnd stream(
      Endpoint endpoint, ChatRequest request, StreamSink sink, Cancellation cancellation)
      throws InterruptedException {
    Request httpRequest =
        endpoint
            .authorizeBearer(new Request.Builder())
            .url(endpoint.url("/api/chat"))
            .header("Accept", "application/x-ndjson")
            .post(RequestBody.create(json.write(body(request)), JSON))
            .build();
    Response response =
        http.open(
            endpoint,
            httpRequest,
            properties.readTimeout(),
            cancellation,
            (status, body, retryAfter) -> classify(status, body, retryAfter, endpoint));
    LineReader reader = new LineReader(sink, endpoint);
    ProviderHttp.readLines(response, cancellation, reader::onLine);
    return reader.end();
  }

  @Override
  public List<ModelInfo> listModels(Endpoint endpoint) throws InterruptedException {
    Request httpRequest =
        endpoint
            .authorizeBearer(new Request.Builder())
            .url(endpoint.url("/api/tags"))
            .get()
            .build();
    String answer =
        http.fetch(
            endpoint,
            httpRequest,
            null,
            (status, body, retryAfter) -> classify(status, body, retryAfter, endpoint));
    JsonNode root = json.read(answer, ProviderFailureType.ProviderStreamBroken, "model list");
    List<ModelInfo> models = new ArrayList<>();
    for (JsonNode model : root.path("models")) {
      String name = model.path("name").asText("");
      if (name.isEmpty()) {
        continue;
      }
      String size = model.path("details").path("parameter_size").asText("");
      models.add(new ModelInfo(name, size.isEmpty() ? name : name + " (" + size + ")", null, null));
    }
    return models;
  }

  ObjectNode body(ChatRequest request) {
    if (request.model() == null || request.model().isBlank()) {
      throw ProviderFailure.of(ProviderFailureType.ProviderInvalidRequest, "no Ollama model given")
          .exception();
    }
    ObjectNode root = json.object();
    root.put("model", request.model());
    ArrayNode messages = root.putArray("messages");
    for (ChatMessage message : request.messages()) {
      messages
          .addObject()
          .put("role", message.role().name().toLowerCase(Locale.ROOT))
          .put("content", message.content() == null ? "" : message.content());
    }
    root.put("stream", true);
    ObjectNode options = json.object();
    if (request.temperature() != null) {
      options.put("temperature", request.temperature());
    }
    if (request.maxTokens() != null) {
      options.put("num_predict", request.maxTokens());
    }
    if (!options.isEmpty()) {
      root.set("options", options);
    }
    return root;
  }

  /** A non-2xx answer: Ollama's body is {@code {"error": "..."}}. */
  ProviderFailure classify(int status, String body, Duration retryAfter, Endpoint endpoint) {
    String message = errorMessage(body, status, endpoint);
    ProviderFailure failure = ProviderHttp.byStatus(status, message, retryAfter);
    return MODEL_NOT_FOUND.matcher(message).find()
        ? new ProviderFailure(
            ProviderFailureType.ProviderUnknownModel, failure.message(), status, retryAfter)
        : failure;
  }

  private String errorMessage(String body, int status, Endpoint endpoint) {
    String message = json.tryRead(body).path("error").asText("");
    if (message.isBlank()) {
      message = body == null || body.isBlank() ? "Ollama answered HTTP " + status : body;
    }
    return endpoint.redact(message);
  }

  /** One stream's state: whether the {@code done} line came, and what it said. */
  private final class LineReader {
    private final StreamSink sink;
    private final Endpoint endpoint;
    private boolean done;
    private String doneReason;
    private long inputTokens;
    private long outputTokens;

    LineReader(StreamSink sink, Endpoint endpoint) {
      this.sink = sink;
      this.endpoint = endpoint;
    }

    void onLine(String line) {
      JsonNode chunk = json.read(line, ProviderFailureType.ProviderStreamBroken, "stream line");
      JsonNode error = chunk.path("error");
      if (!error.isMissingNode() && !error.isNull()) {
        String message = endpoint.redact(error.isTextual() ? error.asText() : error.toString());
        ProviderFailureType type =
            MODEL_NOT_FOUND.matcher(message).find()
                ? ProviderFailureType.ProviderUnknownModel
                : ProviderFailureType.ProviderUnavailable;
        throw ProviderFailure.of(type, "error in the stream: " + message).exception();
      }
      JsonNode content = chunk.path("message").path("content");
      if (content.isTextual() && !content.asText().isEmpty()) {
        sink.onDelta(content.asText());
      }
      if (chunk.path("done").asBoolean(false)) {
        done = true;
        doneReason = chunk.path("done_reason").asText(null);
        inputTokens = chunk.path("prompt_eval_count").asLong(0);
        outputTokens = chunk.path("eval_count").asLong(0);
      }
    }

    StreamEnd end() {
      if (!done) {
        throw ProviderFailure.of(
                ProviderFailureType.ProviderStreamBroken,
                "the Ollama stream ended before its done line")
            .exception();
      }
      return new StreamEnd(
          new Usage(inputTokens, outputTokens),
          doneReason == null ? null : doneReason.toLowerCase(Locale.ROOT));
    }
  }
}
