package dev.chorus.api.support;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;

/**
 * A fake OpenAI-compatible server for end-to-end tests: real HTTP on loopback, answers programmed
 * per model name, every request recorded (headers included) so a test can check which key was sent
 * where.
 */
public final class FakeLlm extends Dispatcher implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final MockWebServer server = new MockWebServer();
  private final Map<String, Function<RecordedRequest, MockResponse>> answers =
      new ConcurrentHashMap<>();
  private final List<RecordedRequest> requests = new CopyOnWriteArrayList<>();

  public FakeLlm() {
    server.setDispatcher(this);
    try {
      server.start();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The OpenAI-style base URL, e.g. {@code http://127.0.0.1:1234/v1}. */
  public String baseUrl() {
    return server.url("/v1").toString();
  }

  public void answer(String model, Function<RecordedRequest, MockResponse> answer) {
    answers.put(model, answer);
  }

  /** The chat requests that named {@code model}, oldest first. */
  public List<RecordedRequest> requestsFor(String model) {
    return requests.stream()
        .filter(r -> r.getBody() != null && r.getBody().size() > 0)
        .filter(r -> model.equals(body(r).path("model").asText()))
        .toList();
  }

  public List<RecordedRequest> requests() {
    return List.copyOf(requests);
  }

  public static JsonNode body(RecordedRequest request) {
    try {
      return JSON.readTree(request.getBody().utf8());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** An OpenAI Chat Completions stream carrying {@code pieces} as content deltas. */
  public static MockResponse openAiStream(List<String> pieces, long promptTokens) {
    StringBuilder sse = new StringBuilder();
    sse.append(chunk("{\"role\":\"assistant\",\"content\":\"\"}", null));
    for (String piece : pieces) {
      sse.append(chunk("{\"content\":" + quote(piece) + "}", null));
    }
    sse.append(chunk("{}", "\"stop\""));
    sse.append(
            "data: {\"id\":\"chatcmpl-e2e\",\"object\":\"chat.completion.chunk\",\"choices\":[],")
        .append("\"usage\":{\"prompt_tokens\":")
        .append(promptTokens)
        .append(",\"completion_tokens\":")
        .append(pieces.size())
        .append(",\"total_tokens\":")
        .append(promptTokens + pieces.size())
        .append("}}\n\n");
    sse.append("data: [DONE]\n\n");
    return new MockResponse.Builder()
        .code(200)
        .setHeader("Content-Type", "text/event-stream")
        .body(sse.toString())
        .build();
  }

  public static MockResponse openAiError(int status, String type, String message) {
    return new MockResponse.Builder()
        .code(status)
        .setHeader("Content-Type", "application/json")
        .body(
            "{\"error\":{\"message\":"
                + quote(message)
                + ",\"type\":"
                + quote(type)
                + ",\"code\":null}}")
        .build();
  }

  private static String chunk(String delta, String finishReason) {
    return "data: {\"id\":\"chatcmpl-e2e\",\"object\":\"chat.completion.chunk\",\"choices\":"
        + "[{\"index\":0,\"delta\":"
        + delta
        + ",\"finish_reason\":"
        + finishReason
        + "}]}\n\n";
  }

  private static String quote(String s) {
    try {
      return JSON.writeValueAsString(s);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public MockResponse dispatch(RecordedRequest request) {
    requests.add(request);
    String path = request.getUrl().encodedPath();
    if ("GET".equals(request.getMethod()) && path.endsWith("/models")) {
      StringBuilder data = new StringBuilder("{\"object\":\"list\",\"data\":[");
      String sep = "";
      for (String model :
          java.util.stream.Stream.concat(
                  answers.keySet().stream(), java.util.stream.Stream.of("fake-static"))
              .sorted()
              .toList()) {
        data.append(sep).append("{\"id\":").append(quote(model)).append(",\"object\":\"model\"}");
        sep = ",";
      }
      return new MockResponse.Builder()
          .code(200)
          .setHeader("Content-Type", "application/json")
          .body(data.append("]}").toString())
          .build();
    }
    if (!path.endsWith("/chat/completions") || request.getBody() == null) {
      return openAiError(404, "invalid_request_error", "no route " + path);
    }
    String model = body(request).path("model").asText();
    var answer = answers.get(model);
    return answer == null
        ? openAiError(404, "invalid_request_error", "The model `" + model + "` does not exist")
        : answer.apply(request);
  }

  @Override
  public void close() {
    server.close();
  }
}
