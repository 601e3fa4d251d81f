package dev.chorus.worker.provider;

import dev.chorus.model.agent.ProviderFailureType;
import dev.chorus.worker.credential.EgressRefusedException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import okhttp3.Call;
import okhttp3.ConnectionPool;
import okhttp3.Dispatcher;
import okhttp3.Headers;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import okhttp3.ResponseBody;
import okhttp3.sse.EventSource;
import okhttp3.sse.EventSourceListener;
import okhttp3.sse.EventSources;
import okio.BufferedSource;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.stereotype.Component;

/**
 * The one HTTP layer every provider uses: one OkHttp connection pool, no retries of its own (no
 * retry on connection failure, no redirects — retries belong to Temporal), cancellation that closes
 * the socket, one SSE parser (OkHttp's), one NDJSON reader, and one mapping from HTTP statuses and
 * I/O errors to {@link ProviderFailure}s.
 */
@Component
public class ProviderHttp implements DisposableBean {
  /** Error bodies are read up to this size: enough for any provider's message, bounded. */
  static final long MAX_ERROR_BODY = 64 * 1024;

  private final OkHttpClient serverClient;
  private final OkHttpClient userClient;

  public ProviderHttp(ProviderHttpProperties properties, UserEndpointGuard guard) {
    this.serverClient =
        new OkHttpClient.Builder()
            .connectionPool(new ConnectionPool(64, 5, TimeUnit.MINUTES))
            .dispatcher(new Dispatcher())
            .retryOnConnectionFailure(false)
            .followRedirects(false)
            .followSslRedirects(false)
            .connectTimeout(properties.connectTimeout())
            .readTimeout(properties.readTimeout())
            .writeTimeout(properties.writeTimeout())
            .build();
    this.userClient = guard.apply(serverClient);
  }

  /** Reads a provider's error body into a classified failure. */
  @FunctionalInterface
  public interface ErrorClassifier {
    ProviderFailure classify(int status, String body, Duration retryAfter);
  }

  /** Receives one SSE event; may throw {@link ProviderFailure#exception()} to stop the stream. */
  @FunctionalInterface
  public interface SseHandler {
    void onEvent(String type, String data);
  }

  /** Receives one non-blank NDJSON line; may throw to stop the stream. */
  @FunctionalInterface
  public interface LineHandler {
    void onLine(String line);
  }

  /**
   * Sends {@code request} and returns the response once its status is 2xx. A non-2xx answer is read
   * (bounded) and thrown as a classified failure; so is an I/O error. The call is closed at once
   * when {@code cancellation} fires.
   */
  public Response open(
      Endpoint endpoint,
      Request request,
      Duration readTimeout,
      Cancellation cancellation,
      ErrorClassifier errors)
      throws InterruptedException {
    OkHttpClient client = endpoint.userSupplied() ? userClient : serverClient;
    if (readTimeout != null) {
      client = client.newBuilder().readTimeout(readTimeout).build();
    }
    Call call = client.newCall(request);
    cancellation.onCancel(call::cancel);
    Response response;
    try {
      response = call.execute();
    } catch (IOException e) {
      throw failure(e, cancellation, false);
    }
    if (response.isSuccessful()) {
      return response;
    }
    try (response) {
      String body = readBounded(response.body());
      throw errors.classify(response.code(), body, retryAfter(response.headers())).exception();
    } catch (IOException e) {
      throw failure(e, cancellation, false);
    }
  }

  /**
   * Reads a {@code text/event-stream} body with OkHttp's SSE parser, on this thread. Returns when
   * the body ends; whether that end was complete is the provider's judgement (did it see its
   * terminal event?).
   */
  public static void readSse(Response response, Cancellation cancellation, SseHandler handler)
      throws InterruptedException {
    MediaType type = response.body().contentType();
    if (type == null || !"text".equals(type.type()) || !"event-stream".equals(type.subtype())) {
      response.close();
      throw ProviderFailure.of(
              ProviderFailureType.ProviderInvalidRequest,
              "expected a text/event-stream answer, got " + type)
          .exception();
    }
    Throwable[] failed = {null};
    RuntimeException[] fromHandler = {null};
    EventSources.processResponse(
        response,
        new EventSourceListener() {
          @Override
          public void onEvent(EventSource source, String id, String type, String data) {
            try {
              handler.onEvent(type, data);
            } catch (RuntimeException e) {
              fromHandler[0] = e;
              throw e;
            }
          }

          @Override
          public void onFailure(EventSource source, Throwable t, Response r) {
            failed[0] = t;
          }
        });
    if (fromHandler[0] != null) {
      throw fromHandler[0];
    }
    switch (failed[0]) {
      case null -> {}
      case IOException io -> throw failure(io, cancellation, true);
      default -> {
        // OkHttp's SSE reader fails with an IllegalArgumentException, not an EOFException, when
        // the body ends cleanly in the middle of a line: a truncated stream all the same.
        if (cancellation.isCancelled()) {
          var interrupted = new InterruptedException("provider call cancelled");
          interrupted.initCause(failed[0]);
          throw interrupted;
        }
        throw ProviderFailure.of(
                ProviderFailureType.ProviderStreamBroken, "the event stream ended mid-line")
            .exception(failed[0]);
      }
    }
  }

  /** Reads a newline-delimited JSON body line by line, on this thread, until it ends. */
  public static void readLines(Response response, Cancellation cancellation, LineHandler handler)
      throws InterruptedException {
    try (response) {
      BufferedSource source = response.body().source();
      String line;
      while ((line = source.readUtf8Line()) != null) {
        if (!line.isBlank()) {
          handler.onLine(line);
        }
      }
    } catch (IOException e) {
      throw failure(e, cancellation, true);
    }
  }

  /**
   * Sends {@code request} and reads its small answer (a model list page) fully, like {@link #open}
   * but with nothing to cancel it: no activity waits on a model list.
   */
  public String fetch(
      Endpoint endpoint, Request request, Duration readTimeout, ErrorClassifier errors)
      throws InterruptedException {
    try (Response response = open(endpoint, request, readTimeout, Cancellation.NONE, errors)) {
      return response.body().string();
    } catch (IOException e) {
      throw failure(e, Cancellation.NONE, false);
    }
  }

  /**
   * The standard mapping from an HTTP status to a failure type. Providers extract the message from
   * their error body and may refine the type (e.g. an unknown model reported as a 400).
   */
  public static ProviderFailure byStatus(int status, String message, Duration retryAfter) {
    ProviderFailureType type =
        switch (status) {
          case 429 -> ProviderFailureType.ProviderRateLimited;
          case 401, 403 -> ProviderFailureType.ProviderAuthFailed;
          case 404 -> ProviderFailureType.ProviderUnknownModel;
          case 408, 409, 425 -> ProviderFailureType.ProviderUnavailable;
          default ->
              status >= 500
                  ? ProviderFailureType.ProviderUnavailable
                  : ProviderFailureType.ProviderInvalidRequest;
        };
    return new ProviderFailure(type, message, status, retryAfter);
  }

  /**
   * {@code Retry-After} in seconds or as an HTTP date, or the {@code retry-after-ms} some providers
   * send; {@code null} when absent or unreadable.
   */
  public static Duration retryAfter(Headers headers) {
    String millis = headers.get("retry-after-ms");
    if (millis != null) {
      try {
        return Duration.ofMillis((long) Double.parseDouble(millis.trim()));
      } catch (NumberFormatException ignored) {
        // fall through to Retry-After
      }
    }
    String value = headers.get("Retry-After");
    if (value == null || value.isBlank()) {
      return null;
    }
    try {
      return Duration.ofMillis((long) (Double.parseDouble(value.trim()) * 1000));
    } catch (NumberFormatException notSeconds) {
      try {
        var at = ZonedDateTime.parse(value.trim(), DateTimeFormatter.RFC_1123_DATE_TIME);
        Duration wait = Duration.between(ZonedDateTime.now(at.getZone()), at);
        return wait.isNegative() ? Duration.ZERO : wait;
      } catch (DateTimeParseException unreadable) {
        return null;
      }
    }
  }

  /**
   * Maps an I/O error to a failure, or to an interruption when the activity was cancelled (a
   * cancelled call surfaces as an I/O error too).
   */
  static RuntimeException failure(IOException e, Cancellation cancellation, boolean midStream)
      throws InterruptedException {
    if (cancellation.isCancelled()) {
      var interrupted = new InterruptedException("provider call cancelled");
      interrupted.initCause(e);
      throw interrupted;
    }
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof EgressRefusedException refused) {
        // A user's base URL points somewhere the worker must not go: no retry can fix that.
        return ProviderFailure.of(
                ProviderFailureType.ProviderNotConfigured,
                "base URL refused: " + refused.getMessage())
            .exception();
      }
    }
    String detail = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    ProviderFailureType type;
    if (e instanceof SocketTimeoutException) {
      type = ProviderFailureType.ProviderTimeout;
      detail = "no data from the provider within the read timeout";
    } else if (e instanceof InterruptedIOException) {
      type = ProviderFailureType.ProviderTimeout;
    } else if (!midStream
        && (e instanceof ConnectException
            || e instanceof UnknownHostException
            || e instanceof NoRouteToHostException)) {
      type = ProviderFailureType.ProviderUnavailable;
    } else {
      type =
          midStream
              ? ProviderFailureType.ProviderStreamBroken
              : ProviderFailureType.ProviderUnavailable;
    }
    return ProviderFailure.of(type, detail).exception(e);
  }

  private static String readBounded(ResponseBody body) throws IOException {
    BufferedSource source = body.source();
    source.request(MAX_ERROR_BODY);
    long size = Math.min(source.getBuffer().size(), MAX_ERROR_BODY);
    return source.getBuffer().readString(size, StandardCharsets.UTF_8);
  }

  /** Wraps the client used for user-supplied base URLs (egress checks, no redirects). */
  @FunctionalInterface
  public interface UserEndpointGuard extends UnaryOperator<OkHttpClient> {}

  @Override
  public void destroy() {
    serverClient.dispatcher().executorService().shutdown();
    serverClient.connectionPool().evictAll();
  }
}
