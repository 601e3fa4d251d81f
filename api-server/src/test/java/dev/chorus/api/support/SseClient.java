package dev.chorus.api.support;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.chorus.model.json.ChorusJson;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A real Server-Sent Events client of {@code GET /api/queries/{id}/events}: parses the
 * text/event-stream framing (id, event, data, comment lines) as a browser's EventSource would.
 */
public final class SseClient implements AutoCloseable {
  private static final ObjectMapper JSON = ChorusJson.mapper();

  /** One event as framed on the wire; {@code data} is parsed JSON. */
  public record Event(String id, String type, JsonNode data) {}

  /** Marks the end of the response in the queue. */
  private static final Event END = new Event(null, "<end>", null);

  private final LinkedBlockingQueue<Event> events = new LinkedBlockingQueue<>();
  private final int status;
  private final String contentType;
  private final String errorBody;
  private final InputStream body;
  private volatile int comments;

  /**
   * Opens the stream; {@code lastEventId} (may be null) goes in the {@code Last-Event-ID} header.
   */
  public SseClient(int port, String token, String pathAndQuery, String lastEventId) {
    var builder =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + pathAndQuery))
            .header("Accept", "text/event-stream")
            .header("Authorization", "Bearer " + token);
    if (lastEventId != null) {
      builder.header("Last-Event-ID", lastEventId);
    }
    try {
      HttpResponse<InputStream> response =
          HttpClient.newHttpClient()
              .send(builder.GET().build(), HttpResponse.BodyHandlers.ofInputStream());
      status = response.statusCode();
      contentType = response.headers().firstValue("Content-Type").orElse("");
      if (status != 200) {
        try (InputStream in = response.body()) {
          errorBody = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        body = null;
        return;
      }
      errorBody = null;
      body = response.body();
      Thread.ofVirtual().start(this::read);
    } catch (IOException e) {
      throw new IllegalStateException("GET " + pathAndQuery + " failed", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  public int status() {
    return status;
  }

  public String contentType() {
    return contentType;
  }

  public String errorBody() {
    return errorBody;
  }

  /** Comment lines (heartbeats) seen so far. */
  public int comments() {
    return comments;
  }

  private void read() {
    try (var reader = new BufferedReader(new InputStreamReader(body, StandardCharsets.UTF_8))) {
      String id = null;
      String type = null;
      StringBuilder data = new StringBuilder();
      String line;
      while ((line = reader.readLine()) != null) {
        if (line.isEmpty()) {
          if (!data.isEmpty()) {
            events.add(new Event(id, type, JSON.readTree(data.toString())));
          }
          id = null;
          type = null;
          data.setLength(0);
        } else if (line.startsWith(":")) {
          comments++;
        } else if (line.startsWith("id:")) {
          id = line.substring(3).strip();
        } else if (line.startsWith("event:")) {
          type = line.substring(6).strip();
        } else if (line.startsWith("data:")) {
          if (!data.isEmpty()) {
            data.append('\n');
          }
          data.append(line.substring(5).strip());
        }
      }
    } catch (IOException closed) {
      // Closed by the test or the server.
    } finally {
      events.add(END);
    }
  }

  /** The next event; null when the response ended. Fails after {@code timeout}. */
  public Event next(Duration timeout) {
    try {
      Event event = events.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
      if (event == null) {
        throw new AssertionError("no SSE event within " + timeout);
      }
      if (event == END) {
        events.add(END);
        return null;
      }
      return event;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  /** Every event until the server ends the response. */
  public List<Event> untilEnd(Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    List<Event> out = new ArrayList<>();
    while (true) {
      Event event = next(Duration.ofNanos(Math.max(1, deadline - System.nanoTime())));
      if (event == null) {
        return out;
      }
      out.add(event);
    }
  }

  @Override
  public void close() {
    if (body != null) {
      try {
        body.close();
      } catch (IOException ignored) {
        // Gone already.
      }
    }
  }
}
