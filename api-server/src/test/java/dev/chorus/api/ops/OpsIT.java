package dev.chorus.api.ops;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.chorus.api.ApiServerApplication;
import dev.chorus.api.support.ApiClient;
import dev.chorus.api.support.RawHttp;
import dev.chorus.api.support.Stack;
import dev.chorus.api.support.WsClient;
import dev.chorus.model.json.ChorusJson;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.test.autoconfigure.actuate.observability.AutoConfigureObservability;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.boot.web.servlet.context.ServletWebServerApplicationContext;
import org.springframework.test.context.ActiveProfiles;

/**
 * Health, metrics, request ids and CORS of a real api-server; and readiness going DOWN (liveness
 * staying UP) in a second instance whose Temporal address answers nothing.
 */
@SpringBootTest(
    webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
    properties = {
      "chorus.cors.allowed-origins=https://app.example.com,https://*.example.org",
      // Spring MVC at TRACE prints every request and response body it reads or writes.
      "logging.level.org.springframework.web=TRACE"
    })
@ActiveProfiles("test")
@AutoConfigureObservability(tracing = false)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class OpsIT {
  @LocalServerPort int port;

  @BeforeAll
  void stackIsUp() {
    Stack.require();
  }

  private static HttpResponse<String> get(int port, String path, Map<String, String> headers) {
    return RawHttp.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).GET(), headers);
  }

  private static JsonNode json(HttpResponse<String> response) throws IOException {
    return ChorusJson.mapper().readTree(response.body());
  }

  @Test
  void readinessCoversPostgresRedisAndTemporal() throws IOException {
    // The first Temporal call of a fresh process also opens its gRPC channel: allow it a moment.
    Awaitility.await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> get(port, "/actuator/health/readiness", Map.of()).statusCode() == 200);
    var ready = get(port, "/actuator/health/readiness", Map.of());
    assertThat(ready.statusCode()).as(ready.body()).isEqualTo(200);
    JsonNode body = json(ready);
    assertThat(body.path("status").asText()).isEqualTo("UP");
    for (String component : new String[] {"db", "redis", "temporal", "readinessState"}) {
      assertThat(body.at("/components/" + component + "/status").asText())
          .as(component)
          .isEqualTo("UP");
    }
    var live = get(port, "/actuator/health/liveness", Map.of());
    assertThat(live.statusCode()).isEqualTo(200);
    assertThat(json(live).path("components").has("redis")).isFalse();
  }

  @Test
  void prometheusExposesChorusMeters() {
    var scrape = get(port, "/actuator/prometheus", Map.of());
    assertThat(scrape.statusCode()).isEqualTo(200);
    assertThat(scrape.body())
        .contains("chorus_ws_sessions{application=\"chorus-api\"}")
        .contains("chorus_queries_active{application=\"chorus-api\",status=\"PENDING\"}")
        .contains("chorus_queries_admitted_total")
        .contains("chorus_queries_rejected_total")
        .contains("http_server_requests_seconds");
  }

  @Test
  void requestIdIsEchoedOrCreated() {
    var echoed = get(port, "/actuator/health", Map.of("X-Request-Id", "trace-42.abc"));
    assertThat(echoed.headers().firstValue("X-Request-Id")).contains("trace-42.abc");
    // Also on a rejected request (before security).
    var unauthorized = get(port, "/api/me", Map.of("X-Request-Id", "req-401"));
    assertThat(unauthorized.statusCode()).isEqualTo(401);
    assertThat(unauthorized.headers().firstValue("X-Request-Id")).contains("req-401");
    var created = get(port, "/api/me", Map.of());
    assertThat(created.headers().firstValue("X-Request-Id").orElseThrow()).matches("[0-9a-f-]{36}");
    var unsafe = get(port, "/api/me", Map.of("X-Request-Id", "x".repeat(300)));
    assertThat(unsafe.headers().firstValue("X-Request-Id").orElseThrow()).matches("[0-9a-f-]{36}");
  }

  private HttpResponse<String> preflight(String origin) {
    return RawHttp.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/api/conversations"))
            .method("OPTIONS", HttpRequest.BodyPublishers.noBody()),
        Map.of(
            "Origin",
            origin,
            "Access-Control-Request-Method",
            "POST",
            "Access-Control-Request-Headers",
            "authorization,content-type,idempotency-key"));
  }

  @Test
  void corsAllowsOnlyConfiguredOrigins() {
    var allowed = preflight("https://app.example.com");
    assertThat(allowed.statusCode()).isEqualTo(200);
    assertThat(allowed.headers().firstValue("Access-Control-Allow-Origin"))
        .contains("https://app.example.com");
    var pattern = preflight("https://ui.example.org");
    assertThat(pattern.headers().firstValue("Access-Control-Allow-Origin"))
        .contains("https://ui.example.org");
    var refused = preflight("https://evil.example.net");
    assertThat(refused.statusCode()).isEqualTo(403);
    assertThat(refused.headers().firstValue("Access-Control-Allow-Origin")).isEmpty();
    // An actual cross-origin call gets the header and sees Retry-After / X-Request-Id exposed.
    var actual = get(port, "/api/me", Map.of("Origin", "https://app.example.com"));
    assertThat(actual.headers().firstValue("Access-Control-Allow-Origin"))
        .contains("https://app.example.com");
    assertThat(actual.headers().firstValue("Access-Control-Expose-Headers").orElse(""))
        .contains("X-Request-Id", "Retry-After");
  }

  @Test
  @ExtendWith(OutputCaptureExtension.class)
  void passwordsAndTokensNeverReachTheLogs(CapturedOutput output) {
    var api = new ApiClient(port);
    String email = "logs-" + UUID.randomUUID() + "@example.com";
    String password = "secret-passphrase-" + UUID.randomUUID();
    var registered =
        api.call("POST", "/api/auth/register", null, Map.of("email", email, "password", password));
    String session = registered.body().path("token").asText();
    var login =
        api.call("POST", "/api/auth/login", null, Map.of("email", email, "password", password));
    String second = login.body().path("token").asText();
    var pat = api.call("POST", "/api/tokens", session, Map.of("name", "logged?"));
    String patSecret = pat.body().path("token").asText();
    api.call("GET", "/api/me", patSecret, null);
    api.call(
        "POST",
        "/api/me/password",
        session,
        Map.of("currentPassword", password, "newPassword", password + "-2"));
    try (var ws = new WsClient(port, patSecret)) {
      ws.await("ready", Duration.ofSeconds(10));
    }
    assertThat(output.getAll()).as("TRACE logging is on").contains("RegisterRequest[");
    assertThat(output.getAll())
        .doesNotContain(password)
        .doesNotContain(session)
        .doesNotContain(second)
        .doesNotContain(patSecret);
  }

  private static int closedPort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }

  @Test
  void readinessIsDownWhenTemporalIsUnreachable() throws IOException {
    // Temporal only: the stream relay needs Redis to start at all, so an instance without Redis
    // never becomes ready in the first place.
    int temporal = closedPort();
    try (var broken =
        new SpringApplicationBuilder(ApiServerApplication.class)
            .profiles("test")
            // Arguments, not builder properties: those would lose to application-test.yml.
            .run("--server.port=0", "--spring.temporal.connection.target=127.0.0.1:" + temporal)) {
      int brokenPort = ((ServletWebServerApplicationContext) broken).getWebServer().getPort();
      var ready = get(brokenPort, "/actuator/health/readiness", Map.of());
      assertThat(ready.statusCode()).as(ready.body()).isEqualTo(503);
      JsonNode body = json(ready);
      assertThat(body.path("status").asText()).isEqualTo("DOWN");
      assertThat(body.at("/components/db/status").asText()).isEqualTo("UP");
      assertThat(body.at("/components/redis/status").asText()).isEqualTo("UP");
      assertThat(body.at("/components/temporal/status").asText()).isEqualTo("DOWN");
      // Not alive-or-dead material: restarting the process would not bring Temporal back.
      var live = get(brokenPort, "/actuator/health/liveness", Map.of());
      assertThat(live.statusCode()).isEqualTo(200);
    }
  }
}
