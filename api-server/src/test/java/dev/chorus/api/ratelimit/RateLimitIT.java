package dev.chorus.api.ratelimit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.chorus.api.ApiServerApplication;
import dev.chorus.api.support.ApiClient;
import dev.chorus.api.support.RawHttp;
import dev.chorus.api.support.Stack;
import dev.chorus.api.support.WsClient;
import io.temporal.client.WorkflowClient;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.boot.web.servlet.context.ServletWebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.test.context.ActiveProfiles;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * Per-user limits hold across api-server instances: this test runs two instances (two Spring
 * contexts) on the same Redis key prefix and PostgreSQL, and spreads one user's requests over both.
 */
@SpringBootTest(
    webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
    properties = {
      "chorus.limits.requests-per-minute=" + RateLimitIT.REQUESTS,
      "chorus.limits.queries-per-minute=3",
      "chorus.limits.max-concurrent-queries=2"
    })
@ActiveProfiles("test")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RateLimitIT {
  static final int REQUESTS = 12;
  private static final String PREFIX = "rl-test-" + UUID.randomUUID();

  @DynamicPropertySource
  static void sharedPrefix(DynamicPropertyRegistry registry) {
    registry.add("chorus.stream.key-prefix", () -> PREFIX);
  }

  @LocalServerPort int port;
  @Autowired JdbcClient jdbc;
  @Autowired WorkflowClient workflowClient;
  private ConfigurableApplicationContext second;
  private int secondPort;
  private final List<String> startedWorkflows = new java.util.concurrent.CopyOnWriteArrayList<>();

  @BeforeAll
  void startSecondInstance() {
    Stack.require();
    second =
        new SpringApplicationBuilder(ApiServerApplication.class)
            .profiles("test")
            // Arguments, not builder properties: those would lose to application-test.yml.
            .run(
                "--server.port=0",
                "--chorus.stream.key-prefix=" + PREFIX,
                "--chorus.limits.requests-per-minute=" + REQUESTS,
                "--chorus.limits.queries-per-minute=3",
                "--chorus.limits.max-concurrent-queries=2");
    secondPort = ((ServletWebServerApplicationContext) second).getWebServer().getPort();
    jdbc.sql(
            """
            INSERT INTO providers (id, kind, server_configured, health, health_detail, checked_at)
            VALUES ('mock', 'mock', true, 'UP', '2 models', now())
            ON CONFLICT (id) DO UPDATE SET server_configured = true, health = 'UP'
            """)
        .update();
  }

  @AfterAll
  void stop() {
    for (String id : startedWorkflows) {
      try {
        workflowClient.newUntypedWorkflowStub(id).terminate("test cleanup");
      } catch (RuntimeException alreadyDone) {
        // Finished or never started.
      }
    }
    if (second != null) {
      second.close();
    }
  }

  /** Fixed one-minute windows: start a counting test well inside one, never at its edge. */
  private static void awayFromWindowEdge() throws InterruptedException {
    long intoMinute = System.currentTimeMillis() % 60_000;
    if (intoMinute > 40_000) {
      Thread.sleep(60_000 - intoMinute + 200);
    }
  }

  private static HttpResponse<String> get(int port, String path, String token) {
    return RawHttp.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).GET(),
        Map.of("Authorization", "Bearer " + token));
  }

  @Test
  void requestsPerMinuteAreCountedAcrossInstances() throws InterruptedException {
    String token = new ApiClient(port).register();
    String other = new ApiClient(secondPort).register();
    awayFromWindowEdge();
    for (int i = 0; i < REQUESTS; i++) {
      var response = get(i % 2 == 0 ? port : secondPort, "/api/me", token);
      assertThat(response.statusCode()).as("request " + i).isEqualTo(200);
      assertThat(response.headers().firstValue("X-RateLimit-Remaining"))
          .contains(Integer.toString(REQUESTS - 1 - i));
    }
    for (int instance : new int[] {port, secondPort}) {
      var limited = get(instance, "/api/me", token);
      assertThat(limited.statusCode()).isEqualTo(429);
      assertThat(limited.headers().firstValue("Content-Type").orElse(""))
          .startsWith("application/problem+json");
      assertThat(limited.body()).contains("/rate-limited", "" + REQUESTS + " requests per minute");
      long retryAfter = Long.parseLong(limited.headers().firstValue("Retry-After").orElseThrow());
      assertThat(retryAfter).isBetween(1L, 60L);
    }
    // Another user has a budget of their own.
    assertThat(get(port, "/api/me", other).statusCode()).isEqualTo(200);
  }

  private ApiClient.Response send(int instance, String token, UUID conversation) {
    return send(instance, token, conversation, UUID.randomUUID().toString());
  }

  private ApiClient.Response send(
      int instance, String token, UUID conversation, String idempotencyKey) {
    var response =
        new ApiClient(instance)
            .call(
                "POST",
                "/api/conversations/" + conversation + "/messages",
                token,
                Map.of(
                    "content",
                    "hello",
                    "agents",
                    List.of(Map.of("provider", "mock", "model", "m"))),
                Map.of("Idempotency-Key", idempotencyKey));
    if (response.status() == 202) {
      startedWorkflows.add(response.body().at("/query/workflowId").asText());
    }
    return response;
  }

  private void finish(ApiClient.Response sent) {
    jdbc.sql("UPDATE queries SET status = 'COMPLETED', completed_at = now() WHERE id = :id")
        .param("id", UUID.fromString(sent.body().at("/query/id").asText()))
        .update();
  }

  @Test
  void concurrentQueriesAreCappedAndFreedWhenAQueryEnds() throws InterruptedException {
    var api = new ApiClient(port);
    String token = api.register();
    UUID conversation = api.createConversation(token);
    awayFromWindowEdge();
    var first = send(port, token, conversation, "first");
    var second = send(secondPort, token, conversation);
    assertThat(first.status()).isEqualTo(202);
    assertThat(second.status()).isEqualTo(202);
    long messages = messageCount(conversation);

    var capped =
        RawHttp.send(
            HttpRequest.newBuilder(
                    URI.create(
                        "http://127.0.0.1:"
                            + secondPort
                            + "/api/conversations/"
                            + conversation
                            + "/messages"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"content\":\"third\"}")),
            Map.of("Authorization", "Bearer " + token));
    assertThat(capped.statusCode()).isEqualTo(429);
    assertThat(capped.headers().firstValue("Retry-After")).isPresent();
    assertThat(capped.body()).contains("/too-many-queries");
    assertThat(messageCount(conversation)).as("nothing written").isEqualTo(messages);

    // The same limit answers over the WebSocket, as an error event; the connection stays up.
    try (var ws = new WsClient(port, token)) {
      ws.await("ready", Duration.ofSeconds(10));
      ws.send(
          Map.of(
              "type", "send_message", "conversationId", conversation.toString(), "content", "x"));
      assertThat(ws.await("error", Duration.ofSeconds(10)).path("code").asText())
          .isEqualTo("too-many-queries");
      ws.send(Map.of("type", "ping"));
      ws.await("pong", Duration.ofSeconds(10));
    }

    // A retry of an admitted query is not a new one: it gets its original answer.
    var replay = send(secondPort, token, conversation, "first");
    assertThat(replay.status()).isEqualTo(202);
    assertThat(replay.body().at("/query/id")).isEqualTo(first.body().at("/query/id"));

    finish(first);
    var third = send(port, token, conversation);
    assertThat(third.status()).isEqualTo(202);

    // Three queries this minute: the per-minute limit now refuses a fourth despite a free slot.
    finish(second);
    var fourth = send(secondPort, token, conversation);
    assertThat(fourth.status()).isEqualTo(429);
    assertThat(fourth.body().path("type").asText()).endsWith("/rate-limited");
  }

  @Test
  void concurrentSendsCannotOvershootTheCap() throws Exception {
    var api = new ApiClient(port);
    String token = api.register();
    UUID conversation = api.createConversation(token);
    awayFromWindowEdge();
    List<Callable<Integer>> sends = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      int instance = i % 2 == 0 ? port : secondPort;
      sends.add(() -> send(instance, token, conversation).status());
    }
    List<Integer> statuses = new ArrayList<>();
    try (var pool = Executors.newFixedThreadPool(6)) {
      for (var result : pool.invokeAll(sends)) {
        statuses.add(result.get());
      }
    }
    assertThat(statuses).filteredOn(s -> s == 202).hasSize(2);
    assertThat(statuses).filteredOn(s -> s == 429).hasSize(4);
    assertThat(messageCount(conversation)).isEqualTo(2);
  }

  private long messageCount(UUID conversation) {
    return jdbc.sql("SELECT count(*) FROM messages WHERE conversation_id = :id")
        .param("id", conversation)
        .query(Long.class)
        .single();
  }
}
