package dev.chorus.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.chorus.api.support.ApiClient;
import dev.chorus.api.support.OpenApiDoc;
import dev.chorus.api.support.Stack;
import dev.chorus.api.support.TestProviders;
import dev.chorus.api.support.WsClient;
import dev.chorus.model.json.ChorusJson;
import io.temporal.client.WorkflowClient;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
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
 * Another user's object is a 404 on every route. User A creates one of each object; user B then
 * calls every operation of the live OpenAPI document that takes a path id, filled with A's ids, and
 * must get 404 each time — so a route added later is covered without editing this test, and one
 * whose ids this test cannot fill fails it rather than slip by. The WebSocket is checked too.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@ActiveProfiles("test")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class OwnershipIT {
  /** Operations that may answer B with something else than 404, each with the reason. */
  private static final Map<String, String> ALLOWED =
      Map.of(
          "PUT /api/me/credentials/{provider}",
          "stores the caller's own key; {provider} names a provider of the directory, not A's key");

  private static final ObjectMapper JSON = ChorusJson.mapper();

  @LocalServerPort int port;
  @Autowired JdbcClient jdbc;
  @Autowired WorkflowClient workflowClient;

  private final HttpClient http = HttpClient.newHttpClient();
  private final List<String> workflows = new ArrayList<>();

  /** A's ids, by the collection path that created them ("/api/conversations" → id). */
  private final Map<String, String> owned = new LinkedHashMap<>();

  private ApiClient api;
  private String ownerToken;
  private String otherToken;
  private String conversationId;
  private String queryId;
  private String provider;

  @BeforeAll
  void usersAndObjects() {
    Stack.require();
    TestProviders.ensure(jdbc);
    api = new ApiClient(port);
    ownerToken = api.register();
    otherToken = api.register();

    conversationId = api.createConversation(ownerToken).toString();
    owned.put("/api/conversations", conversationId);
    var sent =
        api.call(
            "POST",
            "/api/conversations/" + conversationId + "/messages",
            ownerToken,
            Map.of(
                "content", "hello", "agents", List.of(Map.of("provider", "mock", "model", "a"))));
    assertThat(sent.status()).as(sent.toString()).isEqualTo(202);
    workflows.add(sent.body().at("/query/workflowId").asText());
    queryId = sent.body().at("/query/id").asText();
    owned.put("/api/queries", queryId);
    owned.put(
        "/api/conversations/{conversationId}/messages", sent.body().at("/message/id").asText());

    provider = "test-up";
    var credential =
        api.call(
            "PUT", "/api/me/credentials/" + provider, ownerToken, Map.of("apiKey", "sk-owner-1"));
    assertThat(credential.status()).as(credential.toString()).isEqualTo(200);

    var preset =
        api.call(
            "POST",
            "/api/presets",
            ownerToken,
            Map.of("name", "mine", "agents", List.of(Map.of("provider", "mock", "model", "a"))));
    assertThat(preset.status()).as(preset.toString()).isEqualTo(201);
    owned.put("/api/presets", preset.body().get("id").asText());
    var sessions = api.call("GET", "/api/auth/sessions", ownerToken, null);
    assertThat(sessions.status()).as(sessions.toString()).isEqualTo(200);
    owned.put("/api/auth/sessions", sessions.body().at("/items/0/id").asText());

    // Whatever else can be created with a plain POST (tokens, ...) is created too.
    OpenApiDoc doc = OpenApiDoc.fetch(port);
    for (var op : doc.operations()) {
      if (op.method().equals("POST")
          && !op.path().contains("{")
          && !op.path().startsWith("/api/auth/")
          && !owned.containsKey(op.path())) {
        var created =
            api.call(
                "POST",
                op.path(),
                ownerToken,
                JSON.valueToTree(doc.sampleBody(op)),
                Map.of("Idempotency-Key", UUID.randomUUID().toString()));
        String id = idOf(created.body());
        if (created.status() / 100 == 2 && id != null) {
          owned.put(op.path(), id);
        }
      }
    }
  }

  @AfterAll
  void terminateWorkflows() {
    for (String id : workflows) {
      try {
        workflowClient.newUntypedWorkflowStub(id).terminate("test cleanup");
      } catch (RuntimeException alreadyDone) {
        // Finished or never started.
      }
    }
  }

  @Test
  void everyRouteWithAnIdIsA404ForAnotherUser() {
    OpenApiDoc doc = OpenApiDoc.fetch(port);
    List<String> unfillable = new ArrayList<>();
    List<String> leaks = new ArrayList<>();
    int checked = 0;
    for (var op : doc.operations()) {
      var pathParams = op.parameters("path");
      if (pathParams.isEmpty() || ALLOWED.containsKey(op.key())) {
        continue;
      }
      String path = op.path();
      boolean filled = true;
      for (JsonNode param : pathParams) {
        String name = param.path("name").asText();
        String value = valueFor(op.path(), name);
        if (value == null) {
          unfillable.add(op.key() + ": no owned object for {" + name + "}");
          filled = false;
        } else {
          path = path.replace("{" + name + "}", value);
        }
      }
      if (!filled) {
        continue;
      }
      StringBuilder query = new StringBuilder();
      for (JsonNode param : op.parameters("query")) {
        if (param.path("required").asBoolean()) {
          query.append(query.isEmpty() ? "?" : "&");
          query
              .append(param.path("name").asText())
              .append('=')
              .append(
                  URLEncoder.encode(
                      doc.sample(param.path("schema")).asText(), StandardCharsets.UTF_8));
        }
      }
      String body = op.hasBody() ? doc.sampleBody(op).toString() : null;
      Answer answer = call(op.method(), path + query, otherToken, body, op.streams());
      checked++;
      if (answer.status() != 404 || !answer.contentType().startsWith("application/problem+json")) {
        leaks.add(op.key() + " as another user → " + answer);
      }
    }
    assertThat(unfillable)
        .as(
            "operations this suite cannot fill with the first user's ids; create the object in"
                + " usersAndObjects() or list the operation in ALLOWED with a reason")
        .isEmpty();
    assertThat(leaks).as("another user's object must be a 404").isEmpty();
    assertThat(checked).as("operations checked").isGreaterThanOrEqualTo(6);

    // Nothing B did touched A's objects.
    assertThat(api.call("GET", "/api/conversations/" + conversationId, ownerToken, null).status())
        .isEqualTo(200);
    assertThat(api.call("GET", "/api/queries/" + queryId, ownerToken, null).status())
        .isEqualTo(200);
    assertThat(api.call("GET", "/api/me/credentials/" + provider, ownerToken, null).status())
        .isEqualTo(200);
  }

  @Test
  void listsOfAnotherUserShowNoneOfTheFirstUsersObjects() {
    OpenApiDoc doc = OpenApiDoc.fetch(port);
    List<String> leaks = new ArrayList<>();
    for (var op : doc.operations()) {
      boolean needsInput =
          !op.parameters("path").isEmpty()
              || op.parameters("query").stream().anyMatch(p -> p.path("required").asBoolean());
      if (!op.method().equals("GET") || needsInput || op.streams()) {
        continue;
      }
      Answer answer = call("GET", op.path(), otherToken, null, false);
      for (String id : owned.values()) {
        if (answer.body().contains(id)) {
          leaks.add(op.key() + " shows " + id);
        }
      }
    }
    assertThat(leaks).isEmpty();
  }

  @Test
  void webSocketSubscribeSendAndCancelAreNotFoundForAnotherUser() {
    try (var ws = new WsClient(port, otherToken)) {
      ws.await("ready", Duration.ofSeconds(10));
      ws.send(Map.of("type", "subscribe", "conversationId", conversationId));
      ws.send(Map.of("type", "subscribe", "queryId", queryId));
      ws.send(Map.of("type", "cancel", "queryId", queryId));
      ws.send(
          Map.of("type", "send_message", "conversationId", conversationId, "content", "hijack"));
      ws.send(Map.of("type", "ping"));
      List<JsonNode> events =
          ws.collectUntil(e -> e.path("type").asText().equals("pong"), Duration.ofSeconds(15));
      assertThat(events).hasSize(5);
      for (JsonNode event : events.subList(0, 4)) {
        assertThat(event.path("type").asText()).as(event.toString()).isEqualTo("error");
        assertThat(event.path("code").asText()).as(event.toString()).isEqualTo("not_found");
      }
    }
    // The hijack attempt wrote nothing into A's conversation.
    var messages =
        api.call("GET", "/api/conversations/" + conversationId + "/messages", ownerToken, null);
    assertThat(messages.body().path("items")).hasSize(1);
  }

  /** A's value for a path parameter, found by its name and the path it appears in. */
  private String valueFor(String path, String name) {
    if (name.equals("provider")) {
      return provider;
    }
    if (name.equals("id")) {
      return owned.get(path.substring(0, path.indexOf("/{id}")));
    }
    if (name.endsWith("Id")) {
      String base = name.substring(0, name.length() - 2);
      String plural =
          base.endsWith("y") ? base.substring(0, base.length() - 1) + "ies" : base + "s";
      for (var entry : owned.entrySet()) {
        if (entry.getKey().endsWith("/" + plural)) {
          return entry.getValue();
        }
      }
    }
    return null;
  }

  private static String idOf(JsonNode body) {
    if (body == null) {
      return null;
    }
    if (body.path("id").isTextual()) {
      return body.get("id").asText();
    }
    for (JsonNode child : body) {
      if (child.isObject() && child.path("id").isTextual()) {
        return child.get("id").asText();
      }
    }
    return null;
  }

  record Answer(int status, String contentType, String body) {}

  /** A raw call that never waits on a stream: an event stream's body is not read. */
  private Answer call(String method, String path, String token, String body, boolean stream) {
    try {
      var builder =
          HttpRequest.newBuilder(URI.create(api.base() + path))
              .timeout(Duration.ofSeconds(20))
              .header("Authorization", "Bearer " + token)
              .header("Accept", stream ? "text/event-stream" : "application/json");
      if (body != null) {
        builder.header("Content-Type", "application/json");
        builder.method(method, HttpRequest.BodyPublishers.ofString(body));
      } else {
        builder.method(method, HttpRequest.BodyPublishers.noBody());
      }
      HttpResponse<InputStream> response =
          http.send(builder.build(), HttpResponse.BodyHandlers.ofInputStream());
      String type = response.headers().firstValue("Content-Type").orElse("");
      try (InputStream in = response.body()) {
        String text =
            type.startsWith("text/event-stream")
                ? "(event stream)"
                : new String(in.readNBytes(64 * 1024), StandardCharsets.UTF_8);
        return new Answer(response.statusCode(), type, text);
      }
    } catch (IOException e) {
      throw new IllegalStateException(method + " " + path + " failed", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
