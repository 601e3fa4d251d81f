package dev.chorus.worker.provider.anthropic;

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
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.stream.Collectors;
import okhttp3.HttpUrl;
import okhttp3.MediaType;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import org.springframework.stereotype.Component;

/**
 * Anthropic's Messages API ({@code POST /v1/messages} with {@code stream: true}): server-sent
 * events {@code message_start}, {@code content_block_start|delta|stop}, {@code message_delta},
 * {@code ping}, {@code error} and the terminal {@code message_stop}. Only {@code text_delta}s are
 * answer text; thinking, signature and tool-input deltas are not shown to the user.
 */
@Component
public class AnthropicProvider implements ChatProvider {
  static final String DEFAULT_BASE_URL = "https://api.anthropic.com";

  /** Bounds the model list walk: Anthropic has a few dozen models, 1000 per page. */
  static final int MAX_MODEL_PAGES = 10;

  /**
   * Anthropic requires the first turn to be the user's; a history that starts with an answer (its
   * beginning cut off) gets this turn in front.
   */
  static final String LEADING_USER_TURN = "(earlier conversation omitted)";

  private static final MediaType JSON = MediaType.get("application/json");
  private static final int MAX_RAW_ERROR = 300;

  private final AnthropicProperties properties;
  private final ProviderHttp http;
  private final ProviderJson json;

  public AnthropicProvider(AnthropicProperties properties, ProviderHttp http, ObjectMapper json) {
    this.properties = properties;
    this.http = http;
    this.json = new ProviderJson(json, "Anthropic");
  }

  @Override
  public String id() {
    return "anthropic";
  }

  @Override
  public ProviderKind kind() {
    return ProviderKind.ANTHROPIC;
  }

  @Override
  public Optional<Endpoint> serverEndpoint() {
    if (!properties.hasKey()) {
      return Optional.empty();
    }
    String base = properties.baseUrl() == null ? DEFAULT_BASE_URL : properties.baseUrl();
    return Optional.of(new Endpoint(base, properties.apiKey().strip(), false));
  }

  @Override
  public String defaultBaseUrl() {
    return DEFAULT_BASE_URL;
  }

  /**
   * Anthropic continues a final assistant turn. It rejects one that ends in whitespace, so the
   * prefill is sent with its trailing whitespace removed and the model's continuation usually
   * starts with that whitespace again. The caller owns the join: the answer is {@code
   * prefill.stripTrailing()} followed by the deltas, or the original prefill followed by the deltas
   * with their leading whitespace adjusted — this provider only streams the continuation.
   */
  @Override
  public boolean supportsPrefill() {
    return true;
  }

  @Override
  public StreamEnd stream(
      Endpoint endpoint, ChatRequest request, StreamSink sink, Cancellation cancellation)
      throws InterruptedException {
    Request httpRequest =
        authorized(endpoint)
            .url(endpoint.url("/v1/messages"))
            .header("accept", "text/event-stream")
            .post(RequestBody.create(json.write(body(request)), JSON))
            .build();
    Response response =
        http.open(
            endpoint,
            httpRequest,
            properties.readTimeout(),
            cancellation,
            (status, body, retryAfter) -> classifyHttp(status, body, retryAfter, endpoint));
    Events events = new Events(sink, endpoint);
    try {
      ProviderHttp.readSse(response, cancellation, events::onEvent);
    } catch (TerminalEvent done) {
      // message_stop: the answer is complete; nothing after it matters.
    }
    if (!events.stopped) {
      throw ProviderFailure.of(
              ProviderFailureType.ProviderStreamBroken,
              "the Anthropic stream ended before message_stop")
          .exception();
    }
    String finish = events.stopReason == null ? null : events.stopReason.toLowerCase(Locale.ROOT);
    if ("refusal".equals(finish)) {
      throw ProviderFailure.of(
              ProviderFailureType.ProviderRefused,
              "Anthropic refused to answer (stop_reason refusal)")
          .exception();
    }
    return new StreamEnd(new Usage(events.inputTokens, events.outputTokens), finish);
  }

  @Override
  public List<ModelInfo> listModels(Endpoint endpoint) throws InterruptedException {
    List<ModelInfo> models = new ArrayList<>();
    String after = null;
    for (int page = 0; page < MAX_MODEL_PAGES; page++) {
      HttpUrl.Builder url = endpoint.url("/v1/models").newBuilder();
      url.addQueryParameter("limit", "1000");
      if (after != null) {
        url.addQueryParameter("after_id", after);
      }
      Request request = authorized(endpoint).url(url.build()).build();
      String answer =
          http.fetch(
              endpoint,
              request,
              properties.readTimeout(),
              (status, body, retryAfter) -> classifyHttp(status, body, retryAfter, endpoint));
      JsonNode root = json.read(answer, ProviderFailureType.ProviderInvalidRequest, "model list");
      for (JsonNode model : root.path("data")) {
        String id = text(model, "id");
        if (id != null && !id.isBlank()) {
          models.add(
              new ModelInfo(
                  id,
                  text(model, "display_name"),
                  integer(model, "max_input_tokens"),
                  integer(model, "max_tokens")));
        }
      }
      String last = text(root, "last_id");
      if (!root.path("has_more").asBoolean(false) || last == null || last.equals(after)) {
        break;
      }
      after = last;
    }
    return models;
  }

  // --- request -------------------------------------------------------------------------------

  private Request.Builder authorized(Endpoint endpoint) {
    return endpoint.authorize(
        new Request.Builder().header("anthropic-version", properties.version()), "x-api-key");
  }

  ObjectNode body(ChatRequest request) {
    ObjectNode body = json.object();
    body.put("model", request.model());
    body.put(
        "max_tokens",
        request.maxTokens() != null && request.maxTokens() > 0
            ? request.maxTokens()
            : properties.defaultMaxTokens());
    // Anthropic has no system role: every system turn goes to the top-level "system" field.
    String system =
        request.messages().stream()
            .filter(m -> m.role() == ChatMessage.Role.SYSTEM && m.content() != null)
            .map(ChatMessage::content)
            .filter(c -> !c.isBlank())
            .collect(Collectors.joining("\n\n"));
    if (!system.isEmpty()) {
      body.put("system", system);
    }
    ArrayNode messages = body.putArray("messages");
    for (Turn turn : turns(request)) {
      messages.addObject().put("role", turn.role).put("content", turn.content.toString());
    }
    if (request.temperature() != null && !request.temperature().isNaN()) {
      // Anthropic's temperature range is 0..1 (OpenAI's is 0..2): a higher value, meant for another
      // provider, is clamped to Anthropic's most random setting instead of failing with a 400.
      body.put("temperature", Math.max(0.0, Math.min(1.0, request.temperature())));
    }
    body.put("stream", true);
    return body;
  }

  private static final class Turn {
    final String role;
    final StringBuilder content;

    Turn(String role, String content) {
      this.role = role;
      this.content = new StringBuilder(content);
    }
  }

  /**
   * The user/assistant turns as Anthropic accepts them: blank turns dropped (Anthropic rejects
   * empty text), consecutive turns of one role merged, the user's turn first, and a final assistant
   * turn (the prefill) without trailing whitespace.
   */
  private static List<Turn> turns(ChatRequest request) {
    List<Turn> turns = new ArrayList<>();
    for (ChatMessage message : request.messages()) {
      if (message.role() == ChatMessage.Role.SYSTEM
          || message.content() == null
          || message.content().isBlank()) {
        continue;
      }
      add(turns, message.role() == ChatMessage.Role.USER ? "user" : "assistant", message.content());
    }
    if (request.prefill() != null && !request.prefill().isBlank()) {
      add(turns, "assistant", request.prefill());
    }
    if (turns.isEmpty()) {
      throw ProviderFailure.of(
              ProviderFailureType.ProviderInvalidRequest, "the request has no user message")
          .exception();
    }
    if (!turns.getFirst().role.equals("user")) {
      turns.addFirst(new Turn("user", LEADING_USER_TURN));
    }
    Turn last = turns.getLast();
    if (last.role.equals("assistant")) {
      String kept = last.content.toString().stripTrailing();
      last.content.setLength(0);
      last.content.append(kept);
    }
    return turns;
  }

  private static void add(List<Turn> turns, String role, String content) {
    if (!turns.isEmpty() && turns.getLast().role.equals(role)) {
      turns.getLast().content.append("\n\n").append(content);
    } else {
      turns.add(new Turn(role, content));
    }
  }

  // --- stream --------------------------------------------------------------------------------

  /** Thrown from the event handler at {@code message_stop} to stop reading at once. */
  private static final class TerminalEvent extends RuntimeException {
    private static final long serialVersionUID = 1L;

    TerminalEvent() {
      super("message_stop", null, false, false);
    }
  }

  /** The state of one stream, on the activity's thread. */
  private final class Events {
    private final StreamSink sink;
    private final Endpoint endpoint;
    long inputTokens;
    long outputTokens;
    String stopReason;
    boolean stopped;

    Events(StreamSink sink, Endpoint endpoint) {
      this.sink = sink;
      this.endpoint = endpoint;
    }

    void onEvent(String event, String data) {
      if (data == null || data.isBlank()) {
        return;
      }
      JsonNode node =
          json.read(
              data,
              ProviderFailureType.ProviderStreamBroken,
              "stream event " + (event == null ? "" : event));
      String type = text(node, "type");
      if (type == null) {
        type = event == null ? "" : event;
      }
      switch (type) {
        case "message_start" -> usage(node.path("message").path("usage"));
        case "content_block_start" -> {
          JsonNode block = node.path("content_block");
          if ("text".equals(text(block, "type"))) {
            emit(text(block, "text"));
          }
        }
        case "content_block_delta" -> {
          JsonNode delta = node.path("delta");
          if ("text_delta".equals(text(delta, "type"))) {
            emit(text(delta, "text"));
          }
        }
        case "message_delta" -> {
          String reason = text(node.path("delta"), "stop_reason");
          if (reason != null) {
            stopReason = reason;
          }
          usage(node.path("usage"));
        }
        case "message_stop" -> {
          stopped = true;
          throw new TerminalEvent();
        }
        case "error" -> throw classify(null, node.path("error"), null, null, endpoint).exception();
        default -> {
          // ping, content_block_stop, and event types Anthropic may add later.
        }
      }
    }

    private void emit(String text) {
      if (text != null && !text.isEmpty()) {
        sink.onDelta(text);
      }
    }

    /**
     * {@code output_tokens} is cumulative: the last figure wins. {@code input_tokens} comes with
     * {@code message_start} and, in newer API versions, again in {@code message_delta}: the largest
     * wins.
     */
    private void usage(JsonNode usage) {
      Integer input = integer(usage, "input_tokens");
      if (input != null) {
        inputTokens = Math.max(inputTokens, input);
      }
      Integer output = integer(usage, "output_tokens");
      if (output != null) {
        outputTokens = output;
      }
    }
  }

  // --- errors --------------------------------------------------------------------------------

  /** An HTTP error: Anthropic's {@code {"type":"error","error":{"type","message"}}} body. */
  ProviderFailure classifyHttp(int status, String body, Duration retryAfter, Endpoint endpoint) {
    JsonNode root = json.tryRead(body);
    if (!root.path("error").isObject()) {
      // a proxy's or load balancer's page: the raw body is the message
      String raw = body == null ? "" : body.strip().replaceAll("\\s+", " ");
      if (raw.length() > MAX_RAW_ERROR) {
        raw = raw.substring(0, MAX_RAW_ERROR) + "…";
      }
      return ProviderHttp.byStatus(
          status, endpoint.redact(raw.isEmpty() ? "no error body" : raw), retryAfter);
    }
    return classify(status, root.path("error"), text(root, "request_id"), retryAfter, endpoint);
  }

  /**
   * Anthropic's error types, the same in HTTP bodies and in-stream {@code error} events. {@code
   * status} is {@code null} for an in-stream error.
   */
  static ProviderFailure classify(
      Integer status, JsonNode error, String requestId, Duration retryAfter, Endpoint endpoint) {
    String type = text(error, "type");
    String message = text(error, "message");
    String lower = message == null ? "" : message.toLowerCase(Locale.ROOT);
    ProviderFailureType failure =
        switch (type == null ? "" : type) {
          case "overloaded_error", "api_error" -> ProviderFailureType.ProviderUnavailable;
          case "timeout_error" -> ProviderFailureType.ProviderTimeout;
          case "rate_limit_error" -> ProviderFailureType.ProviderRateLimited;
          // billing_error (402): the key's account cannot pay; a retry will not fix it either.
          case "authentication_error", "permission_error", "billing_error" ->
              ProviderFailureType.ProviderAuthFailed;
          // Anthropic reports an unknown model as a 404 "model: <name>".
          case "not_found_error" ->
              lower.contains("model")
                  ? ProviderFailureType.ProviderUnknownModel
                  : ProviderFailureType.ProviderInvalidRequest;
          case "request_too_large" -> ProviderFailureType.ProviderInvalidRequest;
          case "invalid_request_error" ->
              unknownModel(lower)
                  ? ProviderFailureType.ProviderUnknownModel
                  : ProviderFailureType.ProviderInvalidRequest;
          default ->
              status == null
                  // an unknown error type mid-stream: Anthropic's side broke off the answer
                  ? ProviderFailureType.ProviderUnavailable
                  : ProviderHttp.byStatus(status, "", null).type();
        };
    StringBuilder text = new StringBuilder();
    text.append(type == null ? "error" : type);
    if (message != null && !message.isBlank()) {
      text.append(": ").append(message);
    }
    if (requestId != null) {
      text.append(" (request_id ").append(requestId).append(')');
    }
    return new ProviderFailure(failure, endpoint.redact(text.toString()), status, retryAfter);
  }

  private static boolean unknownModel(String lower) {
    return lower.contains("model")
        && (lower.contains("not found")
            || lower.contains("does not exist")
            || lower.contains("unknown model")
            || lower.contains("invalid model"));
  }
}
