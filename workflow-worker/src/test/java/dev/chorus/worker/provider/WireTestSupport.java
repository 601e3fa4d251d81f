package dev.chorus.worker.provider;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.chorus.model.agent.ProviderFailureType;
import io.temporal.failure.ApplicationFailure;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.SocketEffect;
import okio.Buffer;

/**
 * Shared pieces of the providers' wire-format tests: a {@link ProviderHttp} with short timeouts,
 * transcripts from test resources served byte for byte in small chunks (so multi-byte characters
 * are split across network reads), answers that arrive late, stall or break off, a recorder of what
 * a user would see, and a cancellation fired from another thread.
 */
public final class WireTestSupport {
  private WireTestSupport() {}

  /** A provider HTTP layer with short timeouts and no egress guard (tests talk to loopback). */
  public static ProviderHttp http() {
    return new ProviderHttp(
        new ProviderHttpProperties(
            Duration.ofSeconds(2), Duration.ofSeconds(2), Duration.ofSeconds(2)),
        client -> client);
  }

  public static Endpoint endpoint(MockWebServer server, String key) {
    String url = server.url("/").toString();
    return new Endpoint(url.substring(0, url.length() - 1), key, false);
  }

  /** A test resource, byte for byte. */
  public static byte[] resource(String path) {
    try (InputStream in = WireTestSupport.class.getResourceAsStream(path)) {
      if (in == null) {
        throw new IllegalArgumentException("no test resource " + path);
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * A 200 answer with {@code body} sent {@code chunkBytes} bytes at a time (a small prime splits
   * UTF-8 sequences and SSE lines at arbitrary points).
   */
  public static MockResponse chunked(String contentType, byte[] body, int chunkBytes) {
    return new MockResponse.Builder()
        .code(200)
        .setHeader("Content-Type", contentType)
        .body(new Buffer().write(body))
        .throttleBody(chunkBytes, 1, TimeUnit.MILLISECONDS)
        .build();
  }

  public static MockResponse sse(byte[] body) {
    return chunked("text/event-stream; charset=utf-8", body, 7);
  }

  /** A JSON answer (an error body, a model list) sent at once. */
  public static MockResponse jsonResponse(int status, byte[] body) {
    return new MockResponse.Builder()
        .code(status)
        .setHeader("Content-Type", "application/json; charset=utf-8")
        .body(new Buffer().write(body))
        .build();
  }

  public static MockResponse jsonResponse(int status, String body) {
    return jsonResponse(status, body.getBytes(StandardCharsets.UTF_8));
  }

  /**
   * {@code response} with its headers held back by {@code headers}, then its body by {@code body}.
   */
  public static MockResponse delayed(MockResponse response, Duration headers, Duration body) {
    return response
        .newBuilder()
        .headersDelay(headers.toNanos(), TimeUnit.NANOSECONDS)
        .bodyDelay(body.toNanos(), TimeUnit.NANOSECONDS)
        .build();
  }

  /** {@code response} with the connection shut halfway through its body. */
  public static MockResponse dropMidBody(MockResponse response) {
    return response.newBuilder().onResponseBody(SocketEffect.ShutdownConnection.INSTANCE).build();
  }

  /** {@code response} going silent halfway through its body, the connection left open. */
  public static MockResponse stallMidBody(MockResponse response) {
    return response.newBuilder().onResponseBody(SocketEffect.Stall.INSTANCE).build();
  }

  public static String utf8(byte[] bytes) {
    return new String(bytes, StandardCharsets.UTF_8);
  }

  /** What one stream delivered: every delta in order, and how it ended. */
  public record Recording(List<String> deltas, StreamEnd end) {
    public String text() {
      return String.join("", deltas);
    }
  }

  public static Recording record(ChatProvider provider, Endpoint endpoint, ChatRequest request)
      throws InterruptedException {
    List<String> deltas = new ArrayList<>();
    StreamEnd end = provider.stream(endpoint, request, deltas::add, Cancellation.NONE);
    assertThat(deltas).as("a sink never receives an empty delta").doesNotContain("");
    return new Recording(deltas, end);
  }

  /** Streams, expecting a classified failure; returns it with the deltas that came first. */
  public static ApplicationFailure failure(
      ChatProvider provider,
      Endpoint endpoint,
      ChatRequest request,
      ProviderFailureType expected,
      List<String> deltas) {
    ApplicationFailure failure =
        catchThrowableOfType(
            ApplicationFailure.class,
            () -> provider.stream(endpoint, request, deltas::add, Cancellation.NONE));
    assertThat(failure).as("expected a %s failure", expected).isNotNull();
    assertThat(failure.getType()).isEqualTo(expected.name());
    assertThat(failure.isNonRetryable()).isEqualTo(!expected.retryable());
    return failure;
  }

  /** Not in any message or description along the failure's cause chain. */
  public static void assertKeyNeverIn(Throwable failure, String key) {
    for (Throwable t = failure; t != null; t = t.getCause()) {
      assertThat(String.valueOf(t.getMessage())).doesNotContain(key);
      assertThat(t.toString()).doesNotContain(key);
      if (t instanceof ApplicationFailure application) {
        assertThat(String.valueOf(application.getOriginalMessage())).doesNotContain(key);
      }
    }
  }

  /**
   * How a stream cancelled from another thread ended: the deltas before, what it threw, and how
   * long after the cancellation it returned ({@code null} when nothing was cancelled).
   */
  public record Cancelled(List<String> deltas, Throwable thrown, Duration returnedAfterCancel) {}

  /** Streams, and cancels from another thread {@code delay} after the first delta. */
  public static Cancelled cancelAfterFirstDelta(
      ChatProvider provider, Endpoint endpoint, ChatRequest request, Duration delay) {
    ManualCancellation cancellation = new ManualCancellation();
    List<String> deltas = new CopyOnWriteArrayList<>();
    Throwable thrown =
        catchThrowable(() ->
            provider.stream(
                endpoint,
                request,
                delta -> {
                  if (deltas.isEmpty()) {
                    cancellation.cancelAfter(delay);
                  }
                  deltas.add(delta);
                },
                cancellation));
    long returnedAt = System.nanoTime();
    Duration afterCancel =
        cancellation.isCancelled()
            ? Duration.ofNanos(returnedAt - cancellation.cancelledAt())
            : null;
    return new Cancelled(List.copyOf(deltas), thrown, afterCancel);
  }

  /** An activity's cancellation, fired from another thread as the activity's heartbeat would. */
  public static final class ManualCancellation implements Cancellation {
    private Runnable closer;
    private boolean cancelled;
    private long cancelledAt;

    @Override
    public synchronized void onCancel(Runnable closer) {
      this.closer = closer;
      if (cancelled) {
        closer.run();
      }
    }

    @Override
    public synchronized boolean isCancelled() {
      return cancelled;
    }

    /** When {@link #cancel()} ran, by {@link System#nanoTime()}. */
    public synchronized long cancelledAt() {
      return cancelledAt;
    }

    public synchronized void cancel() {
      cancelled = true;
      cancelledAt = System.nanoTime();
      if (closer != null) {
        closer.run();
      }
    }

    /** Cancels from another thread once {@code delay} has passed. */
    public void cancelAfter(Duration delay) {
      Thread.ofVirtual()
          .start(() -> {
            try {
              Thread.sleep(delay);
            } catch (InterruptedException e) {
              return;
            }
            cancel();
          });
    }
  }
}
