package dev.chorus.api.common;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.chorus.api.support.ApiClient;
import dev.chorus.api.support.Stack;
import dev.chorus.api.support.TestProviders;
import dev.chorus.model.json.ChorusJson;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.test.context.ActiveProfiles;

/**
 * Bad input gets the right 4xx as RFC 9457 problem+json, and nothing of it is stored: every bad
 * request below is sent by one user, whose rows in every table are counted before and after.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@ActiveProfiles("test")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ValidationIT {
  private static final ObjectMapper JSON = ChorusJson.mapper();

  @LocalServerPort int port;
  @Autowired JdbcClient jdbc;

  private final HttpClient http = HttpClient.newHttpClient();
  private ApiClient api;
  private String token;
  private UUID userId;
  private String conversation;

  record Answer(int status, String contentType, JsonNode body) {}

  @BeforeAll
  void user() {
    Stack.require();
    TestProviders.ensure(jdbc);
    api = new ApiClient(port);
    token = api.register();
    userId = UUID.fromString(api.call("GET", "/api/me", token, null).body().get("id").asText());
    conversation = api.createConversation(token).toString();
  }

  @Test
  void malformedJsonIsA400AndStoresNothing() {
    var before = rows();
    for (String body :
        List.of("{", "{\"content\": }", "[1, 2", "not json", "{\"content\":\"x\"}}")) {
      Answer answer = send("POST", messages(), body, "application/json");
      assertProblem(answer, 400);
    }
    assertProblem(send("POST", "/api/conversations", "{\"title\":", "application/json"), 400);
    assertProblem(send("PUT", "/api/me/credentials/test-up", "{apiKey", "application/json"), 400);
    assertThat(rows()).isEqualTo(before);
  }

  @Test
  void wrongTypesNameTheField() {
    var before = rows();
    assertField(send("POST", messages(), "{\"content\": {\"a\": 1}}", null), "content");
    assertField(send("POST", messages(), "{\"content\": 42}", null), "content");
    assertField(
        send("POST", messages(), "{\"content\": \"x\", \"agents\": \"mock\"}", null), "agents");
    assertField(
        send(
            "POST",
            messages(),
            "{\"content\": \"x\", \"agents\": [{\"temperature\": \"hot\"}]}",
            null),
        "agents[0].temperature");
    assertField(
        send("POST", messages(), "{\"content\": \"x\", \"policy\": {\"quorum\": \"most\"}}", null),
        "policy.quorum");
    assertField(send("POST", "/api/conversations", "{\"title\": true}", null), "title");
    assertField(send("PUT", "/api/me/credentials/test-up", "{\"apiKey\": 7}", null), "apiKey");
    // PostgreSQL text cannot hold NUL: refused with the field named, never a failed insert.
    assertField(send("POST", "/api/conversations", "{\"title\": \"a\\u0000b\"}", null), "title");
    assertField(
        send(
            "POST",
            messages(),
            "{\"content\": \"x\", \"agents\": [{\"provider\": \"mock\", \"model\": \"m\\u0000\"}]}",
            null),
        "agents[0].model");
    assertThat(rows()).isEqualTo(before);
  }

  @Test
  void missingFieldsAndFieldLimitsNameTheField() {
    var before = rows();
    assertField(send("POST", messages(), "{}", null), "content");
    assertField(send("POST", messages(), "{\"content\": \"   \"}", null), "content");
    assertField(
        send("POST", "/api/auth/register", "{\"email\": \"nobody@example.com\"}", null),
        "password");
    assertField(send("PUT", "/api/me/credentials/test-up", "{\"baseUrl\": null}", null), "apiKey");
    assertField(
        send(
            "POST",
            "/api/auth/register",
            JSON.valueToTree(
                    Map.of(
                        "email",
                        "long-" + UUID.randomUUID() + "@example.com",
                        "password",
                        "é".repeat(201)))
                .toString(),
            null),
        "password");
    assertField(
        send(
            "POST",
            "/api/conversations",
            JSON.valueToTree(Map.of("title", "t".repeat(201))).toString(),
            null),
        "title");
    assertProblem(
        send(
            "POST",
            messages(),
            JSON.valueToTree(Map.of("content", "x".repeat(32_001))).toString(),
            null),
        400);
    List<Map<String, String>> nine =
        java.util.stream.IntStream.range(0, 9)
            .mapToObj(i -> Map.of("provider", "mock", "model", "m" + i))
            .toList();
    assertProblem(
        send(
            "POST",
            messages(),
            JSON.valueToTree(Map.of("content", "x", "agents", nine)).toString(),
            null),
        400);
    assertProblem(
        send(
            "POST",
            messages(),
            JSON.valueToTree(Map.of("content", "x", "policy", Map.of("mode", "shouting")))
                .toString(),
            null),
        400);
    assertThat(rows()).isEqualTo(before);
  }

  @Test
  void oversizeBodiesAre413WithOrWithoutContentLength() {
    var before = rows();
    String huge = JSON.valueToTree(Map.of("content", "x".repeat(1_100_000))).toString();
    Answer declared = send("POST", messages(), huge, null);
    assertProblem(declared, 413);
    assertThat(declared.body().path("type").asText()).endsWith("/body-too-large");
    Answer chunked = sendChunked("POST", messages(), huge);
    assertProblem(chunked, 413);
    Answer credential =
        sendChunked(
            "PUT",
            "/api/me/credentials/test-up",
            JSON.valueToTree(Map.of("apiKey", "k".repeat(1_100_000))).toString());
    assertProblem(credential, 413);
    // The credential route's own, smaller limit (16 KiB) answers alike.
    assertProblem(
        send(
            "PUT",
            "/api/me/credentials/test-up",
            JSON.valueToTree(Map.of("apiKey", "k".repeat(20_000))).toString(),
            null),
        413);
    assertThat(rows()).isEqualTo(before);
  }

  @Test
  void badParametersMethodsMediaTypesAndRoutes() {
    var before = rows();
    assertField(send("GET", "/api/conversations/not-a-uuid", null, null), "id");
    assertField(send("GET", "/api/queries/123", null, null), "id");
    assertField(
        send("POST", "/api/conversations/nope/messages", "{\"content\":\"x\"}", null),
        "conversationId");
    assertField(send("GET", "/api/conversations?limit=many", null, null), "limit");
    assertField(send("GET", "/api/conversations?archived=maybe", null, null), "archived");
    assertThat(send("GET", "/api/conversations?limit=0", null, null).body().path("type").asText())
        .endsWith("/invalid-limit");
    assertThat(send("GET", "/api/conversations?limit=201", null, null).status()).isEqualTo(400);
    assertThat(send("GET", "/api/conversations?cursor=%25%25%25", null, null).status())
        .isEqualTo(400);
    assertThat(send("GET", messages() + "?cursor=bm9wZQ", null, null).body().path("type").asText())
        .endsWith("/invalid-cursor");
    assertProblem(send("POST", messages(), "content=x", "application/x-www-form-urlencoded"), 415);
    assertProblem(send("POST", messages(), "hello", "text/plain"), 415);
    assertProblem(send("DELETE", "/api/providers", null, null), 405);
    assertProblem(send("PATCH", "/api/queries/" + UUID.randomUUID() + "/cancel", "{}", null), 405);
    Answer unknown = send("GET", "/api/no-such-route", null, null);
    assertProblem(unknown, 404);
    assertThat(unknown.body().path("type").asText()).endsWith("/not-found");
    assertProblem(send("GET", "/api/queries/" + UUID.randomUUID(), null, null), 404);
    assertThat(rows()).isEqualTo(before);
  }

  private String messages() {
    return "/api/conversations/" + conversation + "/messages";
  }

  /** The user's rows in every table that has a user_id, plus their messages and responses. */
  private Map<String, Long> rows() {
    Map<String, Long> counts = new LinkedHashMap<>();
    for (String table :
        jdbc.sql(
                """
                SELECT table_name FROM information_schema.columns
                WHERE table_schema = current_schema() AND column_name = 'user_id'
                ORDER BY table_name
                """)
            .query(String.class)
            .list()) {
      counts.put(
          table,
          jdbc.sql("SELECT count(*) FROM \"" + table + "\" WHERE user_id = ?")
              .param(userId)
              .query(Long.class)
              .single());
    }
    counts.put(
        "messages",
        jdbc.sql(
                "SELECT count(*) FROM messages m JOIN conversations c ON c.id = m.conversation_id"
                    + " WHERE c.user_id = ?")
            .param(userId)
            .query(Long.class)
            .single());
    counts.put(
        "responses",
        jdbc.sql(
                "SELECT count(*) FROM responses r JOIN queries q ON q.id = r.query_id WHERE q.user_id = ?")
            .param(userId)
            .query(Long.class)
            .single());
    counts.put(
        "conversation-updated",
        jdbc.sql("SELECT count(*) FROM conversations WHERE user_id = ? AND updated_at > created_at")
            .param(userId)
            .query(Long.class)
            .single());
    return counts;
  }

  private static void assertProblem(Answer answer, int status) {
    assertThat(answer.status()).as(answer.toString()).isEqualTo(status);
    assertThat(answer.contentType()).as(answer.toString()).startsWith("application/problem+json");
    assertThat(answer.body().path("type").asText()).startsWith(Problems.TYPE_BASE);
    assertThat(answer.body().path("title").asText()).isNotBlank();
    assertThat(answer.body().path("status").asInt()).isEqualTo(status);
    assertThat(answer.body().path("detail").asText()).isNotBlank();
  }

  private static void assertField(Answer answer, String field) {
    assertProblem(answer, 400);
    List<String> fields =
        java.util.stream.StreamSupport.stream(answer.body().path("errors").spliterator(), false)
            .map(e -> e.path("field").asText())
            .toList();
    assertThat(fields).as(answer.toString()).contains(field);
    answer
        .body()
        .path("errors")
        .forEach(e -> assertThat(e.path("message").asText()).as(answer.toString()).isNotBlank());
  }

  private Answer send(String method, String path, String body, String contentType) {
    var builder = request(path);
    if (body != null) {
      builder.header("Content-Type", contentType == null ? "application/json" : contentType);
      builder.method(method, HttpRequest.BodyPublishers.ofString(body));
    } else {
      builder.method(method, HttpRequest.BodyPublishers.noBody());
    }
    return answer(builder);
  }

  /** No Content-Length: the server only learns the size while reading. */
  private Answer sendChunked(String method, String path, String body) {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    var builder = request(path).header("Content-Type", "application/json");
    builder.method(
        method, HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(bytes)));
    return answer(builder);
  }

  private HttpRequest.Builder request(String path) {
    return HttpRequest.newBuilder(URI.create(api.base() + path))
        .timeout(Duration.ofSeconds(30))
        .header("Authorization", "Bearer " + token);
  }

  private Answer answer(HttpRequest.Builder builder) {
    try {
      var response = http.send(builder.build(), HttpResponse.BodyHandlers.ofString());
      JsonNode json = response.body().isEmpty() ? null : JSON.readTree(response.body());
      return new Answer(
          response.statusCode(), response.headers().firstValue("Content-Type").orElse(""), json);
    } catch (IOException e) {
      throw new IllegalStateException("request failed", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
