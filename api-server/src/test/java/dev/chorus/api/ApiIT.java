package dev.chorus.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.chorus.api.support.ApiClient;
import dev.chorus.api.support.Stack;
import dev.chorus.api.support.WsClient;
import io.temporal.client.WorkflowClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.test.context.ActiveProfiles;

/**
 * The REST and WebSocket surface of one api-server against the real PostgreSQL, Redis and Temporal
 * (no worker runs here: queries stay PENDING, and their workflows are terminated afterwards).
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@ActiveProfiles("test")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ApiIT {
  private final List<String> startedWorkflows = new ArrayList<>();

  @LocalServerPort int port;
  @Autowired JdbcClient jdbc;
  @Autowired WorkflowClient workflowClient;

  @BeforeAll
  static void stackIsUp() {
    Stack.require();
  }

  /**
   * What workers would have registered (other tests' workers may share this database, so every row
   * this class relies on is set to the state it expects).
   */
  @BeforeAll
  void providersServedByWorkers() {
    jdbc.sql(
            """
            INSERT INTO providers (id, kind, server_configured, health, health_detail, checked_at)
            VALUES ('mock', 'mock', true, 'UP', '2 models', now()),
                   ('test-up', 'openai-compatible', true, 'UP', '1 models', now()),
                   ('test-nokey', 'openai-compatible', false, 'UNCONFIGURED', 'no server key', now())
            ON CONFLICT (id) DO UPDATE
              SET kind = excluded.kind, server_configured = excluded.server_configured,
                  health = excluded.health, health_detail = excluded.health_detail
            """)
        .update();
    jdbc.sql(
            """
            INSERT INTO provider_models (provider, model, display_name, context_window, synced_at)
            VALUES ('test-up', 'big-1', 'Big One', 8192, now())
            ON CONFLICT (provider, model) DO UPDATE SET context_window = excluded.context_window
            """)
        .update();
  }

  @AfterAll
  void terminateWorkflows() {
    for (String id : startedWorkflows) {
      try {
        workflowClient.newUntypedWorkflowStub(id).terminate("test cleanup");
      } catch (RuntimeException alreadyDone) {
        // Finished or never started.
      }
    }
  }

  private ApiClient.Response send(ApiClient api, String token, UUID conversationId, Object body) {
    var response =
        api.call("POST", "/api/conversations/" + conversationId + "/messages", token, body);
    if (response.status() == 202) {
      startedWorkflows.add(response.body().at("/query/workflowId").asText());
    }
    return response;
  }

  @Test
  void everyApiRouteNeedsAToken() {
    var api = new ApiClient(port);
    for (String path :
        List.of("/api/me", "/api/conversations", "/api/queries/" + UUID.randomUUID())) {
      var response = api.call("GET", path, null, null);
      assertThat(response.status()).as(path).isEqualTo(401);
      assertThat(response.contentType()).startsWith("application/problem+json");
    }
    assertThat(api.call("GET", "/api/me", "chs_not-a-token", null).status()).isEqualTo(401);
  }

  @Test
  void registerLoginMeLogout() {
    var api = new ApiClient(port);
    String email = "Person-" + UUID.randomUUID() + "@Example.com";
    var registered =
        api.call(
            "POST",
            "/api/auth/register",
            null,
            Map.of("email", email, "password", "long enough", "displayName", "P"));
    assertThat(registered.status()).isEqualTo(201);
    var duplicate =
        api.call(
            "POST",
            "/api/auth/register",
            null,
            Map.of("email", email.toLowerCase(), "password", "long enough"));
    assertThat(duplicate.status()).isEqualTo(409);

    var wrong =
        api.call("POST", "/api/auth/login", null, Map.of("email", email, "password", "nope nope"));
    assertThat(wrong.status()).isEqualTo(401);
    var login =
        api.call(
            "POST", "/api/auth/login", null, Map.of("email", email, "password", "long enough"));
    assertThat(login.status()).isEqualTo(200);
    String token = login.body().get("token").asText();
    assertThat(login.body().get("expiresAt").asText()).isNotBlank();

    var me = api.call("GET", "/api/me", token, null);
    assertThat(me.status()).isEqualTo(200);
    assertThat(me.body().get("email").asText()).isEqualTo(email);
    assertThat(me.body().get("displayName").asText()).isEqualTo("P");

    assertThat(api.call("POST", "/api/auth/logout", token, null).status()).isEqualTo(204);
    assertThat(api.call("GET", "/api/me", token, null).status()).isEqualTo(401);
    String hash =
        jdbc.sql(
                "SELECT count(*) FROM auth_tokens WHERE token_hash = sha256(convert_to(:t, 'UTF8'))")
            .param("t", token)
            .query(String.class)
            .single();
    assertThat(hash).as("only the token's hash is stored").isEqualTo("1");
  }

  @Test
  void invalidInputGetsProblemDetailsAndWritesNothing() {
    var api = new ApiClient(port);
    var bad =
        api.call(
            "POST", "/api/auth/register", null, Map.of("email", "not-an-email", "password", "x"));
    assertThat(bad.status()).isEqualTo(400);
    assertThat(bad.contentType()).startsWith("application/problem+json");
    assertThat(bad.body().path("errors")).hasSize(2);

    String token = api.register();
    UUID conversationId = api.createConversation(token);
    Long before = messageCount(conversationId);
    assertThat(send(api, token, conversationId, "{not json").status()).isEqualTo(400);
    assertThat(send(api, token, conversationId, Map.of("content", "")).status()).isEqualTo(400);
    var tooLong = send(api, token, conversationId, Map.of("content", "x".repeat(32_001)));
    assertThat(tooLong.status()).isEqualTo(400);
    assertThat(tooLong.body().path("detail").asText()).contains("32000");
    var unknownProvider =
        send(
            api,
            token,
            conversationId,
            Map.of("content", "hi", "agents", List.of(Map.of("provider", "nope", "model", "m"))));
    assertThat(unknownProvider.status()).isEqualTo(400);
    assertThat(unknownProvider.body().path("detail").asText()).contains("nope");
    var keyless =
        send(
            api,
            token,
            conversationId,
            Map.of(
                "content",
                "hi",
                "agents",
                List.of(Map.of("provider", "test-nokey", "model", "m"))));
    assertThat(keyless.status()).isEqualTo(400);
    assertThat(keyless.body().path("detail").asText())
        .contains("no server key", "/api/me/credentials/test-nokey");
    assertThat(api.call("GET", "/api/conversations?limit=500", token, null).status())
        .isEqualTo(400);
    assertThat(api.call("GET", "/api/conversations?cursor=not-a-cursor", token, null).status())
        .isEqualTo(400);
    assertThat(messageCount(conversationId)).isEqualTo(before);
  }

  @Test
  void badFallbacksAndPoliciesGetProblemDetailsAndWriteNothing() {
    var api = new ApiClient(port);
    String token = api.register();
    UUID conversationId = api.createConversation(token);
    Long before = messageCount(conversationId);
    Map<String, Object> fallback = Map.of("provider", "test-up", "model", "big-1");
    Map<String, List<String>> cases = new java.util.LinkedHashMap<>();
    cases.put(
        "{\"content\":\"hi\",\"agents\":[{\"provider\":\"mock\",\"model\":\"m\","
            + "\"fallbacks\":[{\"provider\":\"nope\",\"model\":\"x\"}]}]}",
        List.of("invalid-agents", "nope"));
    cases.put(
        "{\"content\":\"hi\",\"agents\":[{\"provider\":\"mock\",\"model\":\"m\","
            + "\"fallbacks\":[{\"provider\":\"test-nokey\",\"model\":\"x\"}]}]}",
        List.of("invalid-agents", "no server key"));
    cases.put(
        "{\"content\":\"hi\",\"agents\":[{\"provider\":\"mock\",\"model\":\"m\","
            + "\"fallbacks\":[{\"provider\":\"test-up\"}]}]}",
        List.of("invalid-agents", "every fallback needs a provider and a model"));
    cases.put(
        "{\"content\":\"hi\",\"policy\":{\"deadlineSeconds\":4}}",
        List.of("invalid-policy", "deadlineSeconds must be between 5 and 3600"));
    cases.put(
        "{\"content\":\"hi\",\"policy\":{\"deadlineSeconds\":3601}}",
        List.of("invalid-policy", "deadlineSeconds"));
    cases.put(
        "{\"content\":\"hi\",\"policy\":{\"quorum\":0}}",
        List.of("invalid-policy", "quorum must be between 1 and the number of agents (1)"));
    cases.put("{\"content\":\"hi\",\"policy\":{\"quorum\":2}}", List.of("invalid-policy", "(1)"));
    cases.put(
        "{\"content\":\"hi\",\"policy\":{\"quorumAfterSeconds\":0}}",
        List.of("invalid-policy", "quorumAfterSeconds must be between 1 and 3600"));
    cases.put(
        "{\"content\":\"hi\",\"policy\":{\"quorumAfterSeconds\":3601}}",
        List.of("invalid-policy", "quorumAfterSeconds"));
    String twoAgents =
        "\"agents\":[{\"provider\":\"mock\",\"model\":\"m\",\"name\":\"a\"},"
            + "{\"provider\":\"mock\",\"model\":\"m\",\"name\":\"b\"}]";
    cases.put(
        "{\"content\":\"hi\",\"policy\":{\"mode\":\"debate\"}}",
        List.of("invalid-policy", "a debate needs at least 2 agents"));
    cases.put(
        "{\"content\":\"hi\"," + twoAgents + ",\"policy\":{\"mode\":\"debate\",\"rounds\":6}}",
        List.of("invalid-policy", "policy.rounds must be between 2 and 5"));
    cases.put(
        "{\"content\":\"hi\","
            + twoAgents
            + ",\"policy\":{\"mode\":\"debate\",\"synthesizer\":\"c\"}}",
        List.of("invalid-policy", "policy.synthesizer must name one of the agents: a, b"));
    cases.put(
        "{\"content\":\"hi\",\"policy\":{\"mode\":\"chat\"}}",
        List.of("invalid-policy", "policy.mode must be 'answer' or 'debate'"));
    for (var c : cases.entrySet()) {
      var response = send(api, token, conversationId, c.getKey());
      assertThat(response.status()).as(c.getKey()).isEqualTo(400);
      assertThat(response.contentType()).as(c.getKey()).startsWith("application/problem+json");
      assertThat(response.body().path("type").asText())
          .as(c.getKey())
          .endsWith(c.getValue().get(0));
      assertThat(response.body().path("detail").asText())
          .as(c.getKey())
          .contains(c.getValue().get(1));
    }
    var tooMany =
        send(
            api,
            token,
            conversationId,
            Map.of(
                "content",
                "hi",
                "agents",
                List.of(
                    Map.of(
                        "provider",
                        "mock",
                        "model",
                        "m",
                        "fallbacks",
                        List.of(fallback, fallback, fallback, fallback)))));
    assertThat(tooMany.status()).isEqualTo(400);
    assertThat(tooMany.body().path("detail").asText()).contains("at most 3 fallbacks");
    var notANumber =
        send(api, token, conversationId, "{\"content\":\"hi\",\"policy\":{\"quorum\":\"most\"}}");
    assertThat(notANumber.status()).isEqualTo(400);
    assertThat(messageCount(conversationId)).isEqualTo(before);

    try (var ws = new WsClient(port, token)) {
      ws.await("ready", Duration.ofSeconds(10));
      ws.send(
          Map.of(
              "type",
              "send_message",
              "conversationId",
              conversationId.toString(),
              "content",
              "hi",
              "policy",
              Map.of("quorum", 5)));
      var error = ws.await("error", Duration.ofSeconds(10));
      assertThat(error.path("code").asText()).isEqualTo("invalid-policy");
      ws.send(
          Map.of(
              "type",
              "send_message",
              "conversationId",
              conversationId.toString(),
              "content",
              "hi",
              "policy",
              "soon"));
      assertThat(ws.await("error", Duration.ofSeconds(10)).path("code").asText())
          .isEqualTo("bad_frame");
    }
    assertThat(messageCount(conversationId)).isEqualTo(before);
  }

  @Test
  void fallbacksAndAPolicyAreAcceptedAndReachTheWorkflow() {
    var api = new ApiClient(port);
    String token = api.register();
    UUID conversationId = api.createConversation(token);
    var sent =
        send(
            api,
            token,
            conversationId,
            Map.of(
                "content",
                "rank when 1 of 2 is done",
                "agents",
                List.of(
                    Map.of(
                        "provider",
                        "mock",
                        "model",
                        "mock-1",
                        "fallbacks",
                        List.of(Map.of("provider", "test-up", "model", "big-1"))),
                    Map.of("provider", "mock", "model", "mock-2")),
                "policy",
                Map.of("deadlineSeconds", 120, "quorum", 1, "quorumAfterSeconds", 30)));
    assertThat(sent.status()).isEqualTo(202);
    assertThat(sent.body().at("/query/agents/0/fallbacks/0/provider").asText())
        .isEqualTo("test-up");
    assertThat(sent.body().at("/query/agents/0/fallbacks/0/model").asText()).isEqualTo("big-1");
    assertThat(sent.body().at("/query/agents/1/fallbacks").isMissingNode()).isTrue();
    String workflowId = sent.body().at("/query/workflowId").asText();
    String queryId = sent.body().at("/query/id").asText();
    var stored = api.call("GET", "/api/queries/" + queryId, token, null);
    assertThat(stored.body().at("/agents/0/fallbacks/0/provider").asText()).isEqualTo("test-up");

    // The policy travels in the workflow input and memo (not in PostgreSQL).
    var history = workflowClient.fetchHistory(workflowId);
    String input =
        history
            .getEvents()
            .getFirst()
            .getWorkflowExecutionStartedEventAttributes()
            .getInput()
            .getPayloads(0)
            .getData()
            .toStringUtf8();
    assertThat(input)
        .contains("\"deadlineSeconds\":120", "\"quorum\":1", "\"quorumAfterSeconds\":30")
        .contains("\"fallbacks\":[{\"provider\":\"test-up\",\"model\":\"big-1\"}]");
    var memo =
        (Map<?, ?>)
            workflowClient
                .newUntypedWorkflowStub(workflowId)
                .describe()
                .getMemo("policy", Map.class);
    assertThat(memo.get("deadlineSeconds")).isEqualTo(120);
    assertThat(memo.get("quorum")).isEqualTo(1);

    try (var ws = new WsClient(port, token)) {
      ws.await("ready", Duration.ofSeconds(10));
      ws.send(
          Map.of(
              "type",
              "send_message",
              "conversationId",
              conversationId.toString(),
              "content",
              "again, with a deadline",
              "policy",
              Map.of("deadlineSeconds", 30)));
      var accepted = ws.await("message_accepted", Duration.ofSeconds(10));
      startedWorkflows.add(accepted.at("/query/workflowId").asText());
      var wsMemo =
          (Map<?, ?>)
              workflowClient
                  .newUntypedWorkflowStub(accepted.at("/query/workflowId").asText())
                  .describe()
                  .getMemo("policy", Map.class);
      assertThat(wsMemo.get("deadlineSeconds")).isEqualTo(30);
    }
  }

  @Test
  void providersListHealthModelsAndAvailabilityForTheCaller() {
    var api = new ApiClient(port);
    String token = api.register();
    var response = api.call("GET", "/api/providers", token, null);
    assertThat(response.status()).isEqualTo(200);
    var items = response.body().path("items");
    var up = find(items, "test-up");
    assertThat(up.path("kind").asText()).isEqualTo("openai-compatible");
    assertThat(up.path("available").asBoolean()).isTrue();
    assertThat(up.at("/health/status").asText()).isEqualTo("UP");
    assertThat(up.at("/models/0/id").asText()).isEqualTo("big-1");
    assertThat(up.at("/models/0/displayName").asText()).isEqualTo("Big One");
    assertThat(up.at("/models/0/contextWindow").asInt()).isEqualTo(8192);
    var keyless = find(items, "test-nokey");
    assertThat(keyless.path("serverConfigured").asBoolean()).isFalse();
    assertThat(keyless.path("userConfigured").asBoolean()).isFalse();
    assertThat(keyless.path("available").asBoolean()).isFalse();
    assertThat(keyless.has("baseUrl")).as("internal endpoints stay private").isFalse();
    assertThat(api.call("GET", "/api/providers", null, null).status()).isEqualTo(401);
  }

  private static com.fasterxml.jackson.databind.JsonNode find(
      com.fasterxml.jackson.databind.JsonNode items, String id) {
    for (var item : items) {
      if (item.path("id").asText().equals(id)) {
        return item;
      }
    }
    throw new AssertionError("no provider " + id + " in " + items);
  }

  @Test
  void sendingStoresMessageAndPendingQueryAndRepeatsByIdempotencyKey() {
    var api = new ApiClient(port);
    String token = api.register();
    UUID conversationId = api.createConversation(token);
    var first = send(api, token, conversationId, Map.of("content", "hello"));
    assertThat(first.status()).isEqualTo(202);
    assertThat(first.body().at("/message/role").asText()).isEqualTo("user");
    assertThat(first.body().at("/query/agents/0/name").asText()).isEqualTo("mock/mock-1");
    String queryId = first.body().at("/query/id").asText();
    assertThat(first.body().at("/query/workflowId").asText()).isEqualTo("query-" + queryId);

    var query = api.call("GET", "/api/queries/" + queryId, token, null);
    assertThat(query.status()).isEqualTo(200);
    assertThat(query.body().get("status").asText()).isIn("PENDING", "RUNNING");

    var keyed = new ApiClient(port);
    var a = sendWithKey(keyed, token, conversationId, "k-1");
    var b = sendWithKey(keyed, token, conversationId, "k-1");
    assertThat(b.body().at("/query/id")).isEqualTo(a.body().at("/query/id"));
    assertThat(messageCount(conversationId)).isEqualTo(2L);
  }

  private ApiClient.Response sendWithKey(
      ApiClient api, String token, UUID conversationId, String key) {
    var response =
        api.call(
            "POST",
            "/api/conversations/" + conversationId + "/messages",
            token,
            Map.of("content", "same"),
            Map.of("Idempotency-Key", key));
    assertThat(response.status()).isEqualTo(202);
    startedWorkflows.add(response.body().at("/query/workflowId").asText());
    return response;
  }

  @Test
  void anotherUsersObjectsAreNotFound() {
    var api = new ApiClient(port);
    String owner = api.register();
    String other = api.register();
    UUID conversationId = api.createConversation(owner);
    String queryId =
        send(api, owner, conversationId, Map.of("content", "mine")).body().at("/query/id").asText();

    assertThat(api.call("GET", "/api/conversations/" + conversationId, other, null).status())
        .isEqualTo(404);
    assertThat(
            api.call("GET", "/api/conversations/" + conversationId + "/messages", other, null)
                .status())
        .isEqualTo(404);
    assertThat(send(api, other, conversationId, Map.of("content", "theirs")).status())
        .isEqualTo(404);
    assertThat(api.call("GET", "/api/queries/" + queryId, other, null).status()).isEqualTo(404);
    assertThat(api.call("GET", "/api/conversations", other, null).body().path("items")).isEmpty();

    try (var ws = new WsClient(port, other)) {
      ws.await("ready", Duration.ofSeconds(10));
      ws.send(Map.of("type", "subscribe", "conversationId", conversationId.toString()));
      assertThat(ws.await("error", Duration.ofSeconds(10)).path("code").asText())
          .isEqualTo("not_found");
      ws.send(Map.of("type", "subscribe", "queryId", queryId));
      assertThat(ws.await("error", Duration.ofSeconds(10)).path("code").asText())
          .isEqualTo("not_found");
      ws.send(Map.of("type", "cancel", "queryId", queryId));
      assertThat(ws.await("error", Duration.ofSeconds(10)).path("code").asText())
          .isEqualTo("not_found");
    }
    assertThat(api.call("POST", "/api/queries/" + queryId + "/cancel", other, null).status())
        .isEqualTo(404);
  }

  @Test
  void cancelSignalsTheWorkflowAndRejectsWhatItCannotCancel() {
    var api = new ApiClient(port);
    String token = api.register();
    UUID conversationId = api.createConversation(token);
    String queryId =
        send(api, token, conversationId, Map.of("content", "stop me"))
            .body()
            .at("/query/id")
            .asText();

    var unknownAgent =
        api.call("POST", "/api/queries/" + queryId + "/cancel", token, Map.of("agent", "nobody"));
    assertThat(unknownAgent.status()).isEqualTo(400);
    assertThat(unknownAgent.body().path("detail").asText()).contains("nobody");
    var oneAgent =
        api.call(
            "POST", "/api/queries/" + queryId + "/cancel", token, Map.of("agent", "mock/mock-1"));
    assertThat(oneAgent.status()).isEqualTo(202);
    assertThat(oneAgent.body().path("agent").asText()).isEqualTo("mock/mock-1");
    assertThat(api.call("POST", "/api/queries/" + queryId + "/cancel", token, null).status())
        .isEqualTo(202);
    assertThat(
            api.call("POST", "/api/queries/" + UUID.randomUUID() + "/cancel", token, null).status())
        .isEqualTo(404);

    try (var ws = new WsClient(port, token)) {
      ws.await("ready", Duration.ofSeconds(10));
      ws.send(Map.of("type", "cancel", "queryId", queryId));
      assertThat(ws.await("cancel_accepted", Duration.ofSeconds(10)).path("queryId").asText())
          .isEqualTo(queryId);
      ws.send(Map.of("type", "cancel", "queryId", "not-a-uuid"));
      assertThat(ws.await("error", Duration.ofSeconds(10)).path("code").asText())
          .isEqualTo("bad_frame");
    }

    // A query that already ended cannot be cancelled.
    jdbc.sql("UPDATE queries SET status = 'COMPLETED' WHERE id = :id")
        .param("id", UUID.fromString(queryId))
        .update();
    var finished = api.call("POST", "/api/queries/" + queryId + "/cancel", token, null);
    assertThat(finished.status()).isEqualTo(409);
    assertThat(finished.contentType()).startsWith("application/problem+json");
  }

  @Test
  void webSocketRejectsBadFramesButStaysOpen() {
    var api = new ApiClient(port);
    String token = api.register();
    try (var ws = new WsClient(port, null)) {
      ws.send(Map.of("type", "subscribe", "conversationId", UUID.randomUUID().toString()));
      assertThat(ws.await("error", Duration.ofSeconds(10)).path("code").asText())
          .isEqualTo("unauthorized");
      ws.send(Map.of("type", "auth", "token", token));
      ws.await("ready", Duration.ofSeconds(10));
      ws.send("{oops");
      assertThat(ws.await("error", Duration.ofSeconds(10)).path("code").asText())
          .isEqualTo("bad_frame");
      ws.send(Map.of("type", "dance"));
      assertThat(ws.await("error", Duration.ofSeconds(10)).path("code").asText())
          .isEqualTo("unknown_type");
      ws.send(Map.of("type", "subscribe", "queryId", "not-a-uuid"));
      assertThat(ws.await("error", Duration.ofSeconds(10)).path("code").asText())
          .isEqualTo("bad_frame");
      ws.send(Map.of("type", "ping"));
      ws.await("pong", Duration.ofSeconds(10));
    }
  }

  @Test
  void conversationsListNewestFirstWithCursor() {
    var api = new ApiClient(port);
    String token = api.register();
    List<UUID> created = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      created.add(api.createConversation(token));
    }
    var page1 = api.call("GET", "/api/conversations?limit=3", token, null);
    assertThat(page1.body().path("items")).hasSize(3);
    String cursor = page1.body().path("nextCursor").asText();
    var page2 = api.call("GET", "/api/conversations?limit=3&cursor=" + cursor, token, null);
    assertThat(page2.body().path("items")).hasSize(2);
    assertThat(page2.body().path("nextCursor").isNull()).isTrue();
    List<String> ids = new ArrayList<>();
    page1.body().path("items").forEach(n -> ids.add(n.path("id").asText()));
    page2.body().path("items").forEach(n -> ids.add(n.path("id").asText()));
    assertThat(ids)
        .containsExactlyElementsOf(created.reversed().stream().map(UUID::toString).toList());
  }

  private Long messageCount(UUID conversationId) {
    return jdbc.sql("SELECT count(*) FROM messages WHERE conversation_id = :id")
        .param("id", conversationId)
        .query(Long.class)
        .single();
  }
}
