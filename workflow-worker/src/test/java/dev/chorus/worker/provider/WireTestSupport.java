package dev.chorus.worker.provider;

import static org.assertj.core.api.Assertions.assertThat;
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
import java.util.concurrent.TimeUnit;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import okio.Buffer;

/**
 * Shared pieces of the providers' wire-format tests: a {@link ProviderHttp} with short timeouts,
 * transcripts from test resources served byte for byte in small chunks (so multi-byte characters
 * are split across network reads), and a recorder of what a user would see.
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
}
