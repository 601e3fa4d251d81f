package dev.chorus.api.support;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.chorus.model.json.ChorusJson;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/** A real WebSocket client that queues every event the server sends. */
public final class WsClient implements WebSocket.Listener, AutoCloseable {
  private static final ObjectMapper JSON = ChorusJson.mapper();
  private final LinkedBlockingQueue<JsonNode> events = new LinkedBlockingQueue<>();
  private final StringBuilder partial = new StringBuilder();
  private final WebSocket socket;

  public WsClient(int port, String token) {
    String query = token == null ? "" : "?token=" + token;
    this.socket =
        HttpClient.newHttpClient()
            .newWebSocketBuilder()
            .buildAsync(URI.create("ws://127.0.0.1:" + port + "/ws" + query), this)
            .join();
  }

  public void send(Object frame) {
    try {
      socket.sendText(frame instanceof String s ? s : JSON.writeValueAsString(frame), true).join();
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalArgumentException(e);
    }
  }

  /** Waits for {@code ready}, subscribes to the conversation and waits for the ack. */
  public WsClient subscribeConversation(java.util.UUID conversationId) {
    await("ready", Duration.ofSeconds(10));
    send(java.util.Map.of("type", "subscribe", "conversationId", conversationId.toString()));
    await("subscribed", Duration.ofSeconds(10));
    return this;
  }

  /** The next event, failing after {@code timeout}. */
  public JsonNode next(Duration timeout) {
    try {
      JsonNode event = events.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
      if (event == null) {
        throw new AssertionError("no WebSocket event within " + timeout);
      }
      return event;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  /** Skips events until one of {@code type} arrives. */
  public JsonNode await(String type, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      JsonNode event = next(Duration.ofNanos(Math.max(1, deadline - System.nanoTime())));
      if (type.equals(event.path("type").asText())) {
        return event;
      }
    }
  }

  /** Collects events up to and including the first that matches {@code last}. */
  public List<JsonNode> collectUntil(Predicate<JsonNode> last, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    List<JsonNode> out = new ArrayList<>();
    while (true) {
      JsonNode event = next(Duration.ofNanos(Math.max(1, deadline - System.nanoTime())));
      out.add(event);
      if (last.test(event)) {
        return out;
      }
    }
  }

  @Override
  public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
    partial.append(data);
    if (last) {
      try {
        events.add(JSON.readTree(partial.toString()));
      } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
        throw new IllegalStateException("server sent invalid JSON: " + partial, e);
      }
      partial.setLength(0);
    }
    webSocket.request(1);
    return null;
  }

  @Override
  public void close() {
    socket.sendClose(WebSocket.NORMAL_CLOSURE, "bye");
  }
}
