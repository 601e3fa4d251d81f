package dev.chorus.worker.provider;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.chorus.model.agent.ProviderFailureType;
import dev.chorus.worker.provider.WireTestSupport.ManualCancellation;
import io.temporal.failure.ApplicationFailure;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.junit5.StartStop;
import okhttp3.Headers;
import okhttp3.Request;
import okio.Buffer;
import org.junit.jupiter.api.Test;

class ProviderHttpTest {
  @StartStop MockWebServer server = new MockWebServer();

  private final ProviderHttp http = WireTestSupport.http();

  @Test
  void retryAfterInSecondsMillisecondsOrAsAnHttpDate() {
    assertThat(ProviderHttp.retryAfter(Headers.of("Retry-After", "7")))
        .isEqualTo(Duration.ofSeconds(7));
    assertThat(ProviderHttp.retryAfter(Headers.of("Retry-After", "1.5")))
        .isEqualTo(Duration.ofMillis(1500));
    assertThat(ProviderHttp.retryAfter(Headers.of("retry-after-ms", "250", "Retry-After", "9")))
        .isEqualTo(Duration.ofMillis(250));
    String date = DateTimeFormatter.RFC_1123_DATE_TIME.format(ZonedDateTime.now().plusSeconds(30));
    assertThat(ProviderHttp.retryAfter(Headers.of("Retry-After", date)))
        .isBetween(Duration.ofSeconds(25), Duration.ofSeconds(31));
    assertThat(ProviderHttp.retryAfter(Headers.of("Retry-After", "soon"))).isNull();
    assertThat(ProviderHttp.retryAfter(Headers.of())).isNull();
  }

  @Test
  void statusesMapToOneClassification() {
    assertThat(ProviderHttp.byStatus(429, "m", null).type())
        .isEqualTo(ProviderFailureType.ProviderRateLimited);
    assertThat(ProviderHttp.byStatus(401, "m", null).type())
        .isEqualTo(ProviderFailureType.ProviderAuthFailed);
    assertThat(ProviderHttp.byStatus(403, "m", null).type())
        .isEqualTo(ProviderFailureType.ProviderAuthFailed);
    assertThat(ProviderHttp.byStatus(404, "m", null).type())
        .isEqualTo(ProviderFailureType.ProviderUnknownModel);
    assertThat(ProviderHttp.byStatus(400, "m", null).type())
        .isEqualTo(ProviderFailureType.ProviderInvalidRequest);
    assertThat(ProviderHttp.byStatus(413, "m", null).type())
        .isEqualTo(ProviderFailureType.ProviderInvalidRequest);
    for (int status : new int[] {408, 500, 502, 503, 504, 529}) {
      assertThat(ProviderHttp.byStatus(status, "m", null).type())
          .as("%d", status)
          .isEqualTo(ProviderFailureType.ProviderUnavailable);
    }
  }

  @Test
  void aRetryableFailureCarriesTheProvidersDelayAndANonRetryableOneNone() {
    ApplicationFailure limited =
        ProviderHttp.byStatus(429, "slow down", Duration.ofSeconds(12)).exception();
    assertThat(limited.getNextRetryDelay()).isEqualTo(Duration.ofSeconds(12));
    assertThat(limited.isNonRetryable()).isFalse();
    assertThat(limited.getOriginalMessage()).isEqualTo("HTTP 429: slow down");

    ApplicationFailure auth =
        ProviderHttp.byStatus(401, "bad key", Duration.ofSeconds(5)).exception();
    assertThat(auth.isNonRetryable()).isTrue();
    assertThat(auth.getNextRetryDelay()).isNull();
  }

  @Test
  void anErrorBodyIsReadBoundedAndNeverRetriedByTheClient() {
    server.enqueue(new MockResponse.Builder().code(503).body("x".repeat(200_000)).build());
    server.enqueue(new MockResponse.Builder().code(200).body("second").build());
    List<String> bodies = new ArrayList<>();

    Throwable thrown =
        catchThrowable(() ->
            http.open(
                WireTestSupport.endpoint(server, null),
                new Request.Builder().url(server.url("/x")).build(),
                null,
                Cancellation.NONE,
                (status, body, retryAfter) -> {
                  bodies.add(body);
                  return ProviderHttp.byStatus(status, "busy", retryAfter);
                }));

    assertThat(thrown).isInstanceOf(ApplicationFailure.class);
    assertThat(((ApplicationFailure) thrown).getType())
        .isEqualTo(ProviderFailureType.ProviderUnavailable.name());
    assertThat(bodies.getFirst()).hasSize((int) ProviderHttp.MAX_ERROR_BODY);
    assertThat(server.getRequestCount()).isEqualTo(1);
  }

  @Test
  void cancellationClosesABlockedReadAtOnce() throws Exception {
    // Headers, one event, then a long silence the reader blocks in.
    server.enqueue(
        new MockResponse.Builder()
            .setHeader("Content-Type", "text/event-stream")
            .body(new Buffer().writeUtf8("data: one\n\n" + "data: two\n\n"))
            .throttleBody(11, 30, TimeUnit.SECONDS)
            .build());
    ManualCancellation cancellation = new ManualCancellation();
    List<String> events = new CopyOnWriteArrayList<>();
    var response =
        http.open(
            WireTestSupport.endpoint(server, null),
            new Request.Builder().url(server.url("/s")).build(),
            Duration.ofSeconds(60),
            cancellation,
            (s, b, r) -> ProviderHttp.byStatus(s, b, r));
    Thread canceller =
        Thread.ofVirtual()
            .start(() -> {
              while (events.isEmpty()) {
                Thread.onSpinWait();
              }
              cancellation.cancel();
            });

    long started = System.nanoTime();
    Throwable thrown =
        catchThrowable(() -> ProviderHttp.readSse(response, cancellation, (t, d) -> events.add(d)));
    canceller.join();

    assertThat(thrown).isInstanceOf(InterruptedException.class);
    assertThat(events).containsExactly("one");
    assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(10));
  }
}
