package dev.chorus.api.auth;

import static org.assertj.core.api.Assertions.assertThat;

import dev.chorus.api.support.ApiClient;
import dev.chorus.api.support.RawHttp;
import dev.chorus.api.support.Stack;
import dev.chorus.api.support.WsClient;
import java.time.Duration;
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
import org.springframework.security.crypto.bcrypt.BCryptPasswordEncoder;
import org.springframework.test.context.ActiveProfiles;

/**
 * Accounts and tokens against the real PostgreSQL and Redis: register/login/logout, expiry and
 * revocation, password hashing and its upgrade, brute-force throttling, /api/me, password change,
 * account deletion and personal access tokens on REST and WebSocket.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@ActiveProfiles("test")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AccountIT {
  private static final String PASSWORD = "correct horse battery";

  @LocalServerPort int port;
  @Autowired JdbcClient jdbc;
  ApiClient api;

  @BeforeAll
  void setUp() {
    Stack.require();
    api = new ApiClient(port);
    jdbc.sql(
            """
            INSERT INTO providers (id, kind, server_configured, health, health_detail, checked_at)
            VALUES ('mock', 'mock', true, 'UP', '2 models', now())
            ON CONFLICT (id) DO UPDATE SET server_configured = true, health = 'UP'
            """)
        .update();
  }

  private record Account(String email, String token, UUID id) {}

  private Account register() {
    String email = "acc-" + UUID.randomUUID() + "@example.com";
    var response =
        api.call("POST", "/api/auth/register", null, Map.of("email", email, "password", PASSWORD));
    assertThat(response.status()).isEqualTo(201);
    return new Account(
        email,
        response.body().get("token").asText(),
        UUID.fromString(response.body().at("/user/id").asText()));
  }

  private String login(String email, String password) {
    var response =
        api.call("POST", "/api/auth/login", null, Map.of("email", email, "password", password));
    assertThat(response.status()).as(response.toString()).isEqualTo(200);
    return response.body().get("token").asText();
  }

  private String passwordHash(UUID userId) {
    return jdbc.sql("SELECT password_hash FROM users WHERE id = :id")
        .param("id", userId)
        .query(String.class)
        .single();
  }

  @Test
  void passwordsAreHashedWithArgon2AndLongPassphrasesWork() {
    String email = "long-" + UUID.randomUUID() + "@example.com";
    String passphrase = "ünïcödé passphrase ".repeat(10); // 190 chars, far over bcrypt's 72 bytes
    var registered =
        api.call(
            "POST", "/api/auth/register", null, Map.of("email", email, "password", passphrase));
    assertThat(registered.status()).isEqualTo(201);
    UUID id = UUID.fromString(registered.body().at("/user/id").asText());
    assertThat(passwordHash(id)).startsWith("{argon2}$argon2id$");
    login(email, passphrase);
    var wrong =
        api.call(
            "POST",
            "/api/auth/login",
            null,
            Map.of("email", email, "password", passphrase.substring(0, 100)));
    assertThat(wrong.status()).isEqualTo(401);
  }

  @Test
  void legacyBcryptHashIsUpgradedAtLogin() {
    UUID id = UUID.randomUUID();
    String email = "legacy-" + id + "@example.com";
    jdbc.sql("INSERT INTO users (id, email, password_hash) VALUES (:id, :email, :hash)")
        .param("id", id)
        .param("email", email)
        .param("hash", new BCryptPasswordEncoder().encode(PASSWORD))
        .update();
    assertThat(passwordHash(id)).startsWith("$2a$");
    login(email, PASSWORD);
    assertThat(passwordHash(id)).startsWith("{argon2}");
    login(email, PASSWORD);
  }

  @Test
  void expiredAndRevokedTokensAreRefused() {
    Account account = register();
    String second = login(account.email(), PASSWORD);
    assertThat(api.call("GET", "/api/me", second, null).status()).isEqualTo(200);
    jdbc.sql(
            "UPDATE auth_tokens SET expires_at = now() - interval '1 second'"
                + " WHERE token_hash = sha256(convert_to(:t, 'UTF8'))")
        .param("t", second)
        .update();
    var expired = api.call("GET", "/api/me", second, null);
    assertThat(expired.status()).isEqualTo(401);
    assertThat(expired.contentType()).startsWith("application/problem+json");
    // The first session is untouched; logging it out revokes it, everywhere.
    assertThat(api.call("GET", "/api/me", account.token(), null).status()).isEqualTo(200);
    assertThat(api.call("POST", "/api/auth/logout", account.token(), null).status()).isEqualTo(204);
    assertThat(api.call("GET", "/api/me", account.token(), null).status()).isEqualTo(401);
    try (var ws = new WsClient(port, null)) {
      ws.send(Map.of("type", "auth", "token", account.token()));
      assertThat(ws.await("error", Duration.ofSeconds(10)).path("code").asText())
          .isEqualTo("unauthorized");
    }
  }

  @Test
  void sessionsAreListedAndSignedOutOneByOneOrAllButThisOne() {
    Account account = register();
    String second = login(account.email(), PASSWORD);
    String third = login(account.email(), PASSWORD);
    var listed = api.call("GET", "/api/auth/sessions", account.token(), null);
    assertThat(listed.status()).isEqualTo(200);
    assertThat(listed.body().path("items")).hasSize(3);
    assertThat(listed.body().toString()).doesNotContain(second).doesNotContain(third);
    List<String> current = new java.util.ArrayList<>();
    listed
        .body()
        .path("items")
        .forEach(s -> {
          if (s.path("current").asBoolean()) {
            current.add(s.path("id").asText());
          }
        });
    assertThat(current).hasSize(1);
    // The second session's id: the one the second session itself sees as current.
    String secondId = null;
    for (var s : api.call("GET", "/api/auth/sessions", second, null).body().path("items")) {
      if (s.path("current").asBoolean()) {
        secondId = s.path("id").asText();
      }
    }
    assertThat(secondId).isNotNull().isNotEqualTo(current.get(0));
    Account stranger = register();
    assertThat(
            api.call("DELETE", "/api/auth/sessions/" + secondId, stranger.token(), null).status())
        .isEqualTo(404);
    assertThat(api.call("DELETE", "/api/auth/sessions/" + secondId, account.token(), null).status())
        .isEqualTo(204);
    assertThat(api.call("GET", "/api/me", second, null).status()).isEqualTo(401);
    assertThat(api.call("GET", "/api/me", third, null).status()).isEqualTo(200);

    assertThat(api.call("DELETE", "/api/auth/sessions", account.token(), null).status())
        .isEqualTo(204);
    assertThat(api.call("GET", "/api/me", third, null).status()).isEqualTo(401);
    assertThat(api.call("GET", "/api/me", account.token(), null).status()).isEqualTo(200);
    assertThat(api.call("GET", "/api/auth/sessions", account.token(), null).body().path("items"))
        .hasSize(1);
    assertThat(api.call("GET", "/api/me", stranger.token(), null).status()).isEqualTo(200);
  }

  @Test
  void repeatedFailedLoginsAreThrottledEvenWithTheRightPassword() {
    Account account = register();
    for (int i = 0; i < 5; i++) {
      var wrong =
          api.call(
              "POST",
              "/api/auth/login",
              null,
              Map.of("email", account.email(), "password", "wrong password " + i));
      assertThat(wrong.status()).as("attempt " + i).isEqualTo(401);
    }
    var locked =
        api.call(
            "POST",
            "/api/auth/login",
            null,
            Map.of("email", account.email().toUpperCase(), "password", PASSWORD));
    assertThat(locked.status()).isEqualTo(429);
    assertThat(locked.contentType()).startsWith("application/problem+json");
    assertThat(locked.body().path("type").asText()).endsWith("/login-throttled");
    var raw =
        RawHttp.post(
            port, "/api/auth/login", Map.of("email", account.email(), "password", PASSWORD));
    assertThat(raw.statusCode()).isEqualTo(429);
    long retryAfter = Long.parseLong(raw.headers().firstValue("Retry-After").orElseThrow());
    assertThat(retryAfter).isBetween(1L, 15 * 60L);
    // Other accounts are not affected, and the existing session still works.
    login(register().email(), PASSWORD);
    assertThat(api.call("GET", "/api/me", account.token(), null).status()).isEqualTo(200);
  }

  @Test
  void successfulLoginClearsEarlierFailures() {
    Account account = register();
    for (int round = 0; round < 3; round++) {
      for (int i = 0; i < 4; i++) {
        api.call(
            "POST",
            "/api/auth/login",
            null,
            Map.of("email", account.email(), "password", "wrong password"));
      }
      login(account.email(), PASSWORD);
    }
  }

  @Test
  void meIsPatchedAndValidated() {
    Account account = register();
    String token = account.token();
    var patched =
        api.call(
            "PATCH",
            "/api/me",
            token,
            Map.of(
                "displayName",
                "  Ada  ",
                "preferences",
                Map.of(
                    "theme",
                    "dark",
                    "defaultAgents",
                    List.of(
                        Map.of("provider", "mock", "model", "alpha"),
                        Map.of("provider", "mock", "model", "alpha")))));
    assertThat(patched.status()).as(patched.toString()).isEqualTo(200);
    assertThat(patched.body().path("displayName").asText()).isEqualTo("Ada");
    assertThat(patched.body().at("/preferences/theme").asText()).isEqualTo("dark");
    // Stored normalized, like a query's agents: names unique within the list.
    assertThat(patched.body().at("/preferences/defaultAgents/0/name").asText())
        .isEqualTo("mock/alpha");
    assertThat(patched.body().at("/preferences/defaultAgents/1/name").asText())
        .isEqualTo("mock/alpha#2");

    // Merged key by key; null removes a key.
    var merged =
        api.call(
            "PATCH", "/api/me", token, "{\"preferences\":{\"theme\":null,\"language\":\"de\"}}");
    assertThat(merged.status()).isEqualTo(200);
    assertThat(merged.body().at("/preferences/theme").isMissingNode()).isTrue();
    assertThat(merged.body().at("/preferences/language").asText()).isEqualTo("de");
    assertThat(merged.body().at("/preferences/defaultAgents")).hasSize(2);
    assertThat(merged.body().path("displayName").asText()).isEqualTo("Ada");

    // A message that names no agents, in a conversation without any, asks the user's defaults.
    var conversation = api.createConversation(token);
    var sent =
        api.call(
            "POST",
            "/api/conversations/" + conversation + "/messages",
            token,
            Map.of("content", "hi"));
    assertThat(sent.status()).as(sent.toString()).isEqualTo(202);
    assertThat(sent.body().at("/query/agents").findValuesAsText("name"))
        .containsExactly("mock/alpha", "mock/alpha#2");

    var before = api.call("GET", "/api/me", token, null).body();
    Map<String, Object> bad = new java.util.LinkedHashMap<>();
    bad.put(
        "unknown provider",
        Map.of(
            "preferences",
            Map.of("defaultAgents", List.of(Map.of("provider", "nope", "model", "m")))));
    bad.put("agents not a list", Map.of("preferences", Map.of("defaultAgents", "mock")));
    bad.put(
        "agent of wrong shape",
        Map.of("preferences", Map.of("defaultAgents", List.of(Map.of("provider", List.of(1))))));
    bad.put(
        "no model",
        Map.of("preferences", Map.of("defaultAgents", List.of(Map.of("provider", "mock")))));
    bad.put(
        "too many agents",
        Map.of(
            "preferences",
            Map.of(
                "defaultAgents",
                java.util.Collections.nCopies(9, Map.of("provider", "mock", "model", "m")))));
    bad.put("preferences not an object", Map.of("preferences", List.of(1, 2)));
    bad.put("displayName not text", Map.of("displayName", 42));
    bad.put("displayName too long", Map.of("displayName", "x".repeat(101)));
    bad.put("unknown field", Map.of("email", "other@example.com"));
    bad.put("too large", Map.of("preferences", Map.of("notes", "x".repeat(17_000))));
    bad.put("not an object", List.of("displayName"));
    bad.put("malformed", "{\"displayName\":");
    bad.forEach((name, body) -> {
      var response = api.call("PATCH", "/api/me", token, body);
      assertThat(response.status()).as(name).isEqualTo(400);
      assertThat(response.contentType()).as(name).startsWith("application/problem+json");
    });
    assertThat(api.call("GET", "/api/me", token, null).body()).isEqualTo(before);

    var cleared = api.call("PATCH", "/api/me", token, "{\"displayName\":null}");
    assertThat(cleared.body().path("displayName").isTextual()).isFalse();
  }

  @Test
  void changingThePasswordSignsOutOtherSessionsButKeepsThisOneAndPersonalTokens() {
    Account account = register();
    String other = login(account.email(), PASSWORD);
    String pat = createToken(account.token(), Map.of("name", "ci")).path("token").asText();

    var wrongCurrent =
        api.call(
            "POST",
            "/api/me/password",
            account.token(),
            Map.of("currentPassword", "not it at all", "newPassword", "new password 123"));
    assertThat(wrongCurrent.status()).isEqualTo(403);
    var tooShort =
        api.call(
            "POST",
            "/api/me/password",
            account.token(),
            Map.of("currentPassword", PASSWORD, "newPassword", "short"));
    assertThat(tooShort.status()).isEqualTo(400);
    var byPat =
        api.call(
            "POST",
            "/api/me/password",
            pat,
            Map.of("currentPassword", PASSWORD, "newPassword", "new password 123"));
    assertThat(byPat.status()).isEqualTo(403);
    assertThat(byPat.body().path("type").asText()).endsWith("/session-required");
    assertThat(api.call("GET", "/api/me", other, null).status()).isEqualTo(200);

    var changed =
        api.call(
            "POST",
            "/api/me/password",
            account.token(),
            Map.of("currentPassword", PASSWORD, "newPassword", "new password 123"));
    assertThat(changed.status()).isEqualTo(204);
    assertThat(api.call("GET", "/api/me", other, null).status()).isEqualTo(401);
    assertThat(api.call("GET", "/api/me", account.token(), null).status()).isEqualTo(200);
    assertThat(api.call("GET", "/api/me", pat, null).status()).isEqualTo(200);
    assertThat(
            api.call(
                    "POST",
                    "/api/auth/login",
                    null,
                    Map.of("email", account.email(), "password", PASSWORD))
                .status())
        .isEqualTo(401);
    login(account.email(), "new password 123");
  }

  @Test
  void deletingTheAccountNeedsThePasswordAndRemovesEverything() {
    Account account = register();
    UUID conversation = api.createConversation(account.token());
    String pat = createToken(account.token(), Map.of("name", "x")).path("token").asText();
    assertThat(api.call("DELETE", "/api/me", pat, Map.of("password", PASSWORD)).status())
        .isEqualTo(403);
    assertThat(
            api.call("DELETE", "/api/me", account.token(), Map.of("password", "wrong one"))
                .status())
        .isEqualTo(403);
    assertThat(api.call("DELETE", "/api/me", account.token(), Map.of()).status()).isEqualTo(400);
    assertThat(
            api.call("GET", "/api/conversations/" + conversation, account.token(), null).status())
        .isEqualTo(200);

    assertThat(
            api.call("DELETE", "/api/me", account.token(), Map.of("password", PASSWORD)).status())
        .isEqualTo(204);
    assertThat(api.call("GET", "/api/me", account.token(), null).status()).isEqualTo(401);
    assertThat(api.call("GET", "/api/me", pat, null).status()).isEqualTo(401);
    assertThat(
            jdbc.sql("SELECT count(*) FROM conversations WHERE id = :id")
                .param("id", conversation)
                .query(Long.class)
                .single())
        .isZero();
    var relogin =
        api.call(
            "POST",
            "/api/auth/login",
            null,
            Map.of("email", account.email(), "password", PASSWORD));
    assertThat(relogin.status()).isEqualTo(401);
  }

  private com.fasterxml.jackson.databind.JsonNode createToken(String token, Object body) {
    var response = api.call("POST", "/api/tokens", token, body);
    assertThat(response.status()).as(response.toString()).isEqualTo(201);
    return response.body();
  }

  @Test
  void personalAccessTokenLifecycle() {
    Account account = register();
    var created =
        createToken(account.token(), Map.of("name", " deploy script ", "expiresInDays", 30));
    String secret = created.path("token").asText();
    assertThat(secret).startsWith("chp_");
    assertThat(created.path("name").asText()).isEqualTo("deploy script");
    assertThat(created.path("scopes")).hasSize(2);
    assertThat(created.path("expiresAt").asText())
        .startsWith(
            java.time.LocalDate.now(java.time.ZoneOffset.UTC)
                .plusDays(30)
                .toString()
                .substring(0, 7));
    UUID id = UUID.fromString(created.path("id").asText());

    var listed = api.call("GET", "/api/tokens", account.token(), null);
    assertThat(listed.status()).isEqualTo(200);
    assertThat(listed.body().path("items")).hasSize(1);
    assertThat(listed.body().toString()).doesNotContain(secret).doesNotContain("\"token\"");
    assertThat(listed.body().at("/items/0/lastUsedAt").isTextual()).isFalse();

    // A PAT works as a bearer token on REST (reads and writes) and on the WebSocket.
    assertThat(api.call("GET", "/api/me", secret, null).body().path("email").asText())
        .isEqualTo(account.email());
    UUID conversation = api.createConversation(secret);
    try (var ws = new WsClient(port, secret)) {
      assertThat(ws.await("ready", Duration.ofSeconds(10)).path("userId").asText())
          .isEqualTo(account.id().toString());
      ws.send(Map.of("type", "subscribe", "conversationId", conversation.toString()));
      ws.await("subscribed", Duration.ofSeconds(10));
    }
    assertThat(
            api.call("GET", "/api/tokens", account.token(), null)
                .body()
                .at("/items/0/lastUsedAt")
                .isTextual())
        .isTrue();

    // A PAT cannot mint or delete tokens.
    assertThat(api.call("POST", "/api/tokens", secret, Map.of("name", "child")).status())
        .isEqualTo(403);
    assertThat(api.call("DELETE", "/api/tokens/" + id, secret, null).status()).isEqualTo(403);

    // Another user cannot see or delete it.
    Account stranger = register();
    assertThat(api.call("GET", "/api/tokens", stranger.token(), null).body().path("items"))
        .isEmpty();
    assertThat(api.call("DELETE", "/api/tokens/" + id, stranger.token(), null).status())
        .isEqualTo(404);
    assertThat(api.call("GET", "/api/me", secret, null).status()).isEqualTo(200);

    assertThat(api.call("DELETE", "/api/tokens/" + id, account.token(), null).status())
        .isEqualTo(204);
    assertThat(api.call("DELETE", "/api/tokens/" + id, account.token(), null).status())
        .isEqualTo(404);
    assertThat(api.call("GET", "/api/me", secret, null).status()).isEqualTo(401);
    assertThat(api.call("GET", "/api/tokens", account.token(), null).body().path("items"))
        .isEmpty();
  }

  @Test
  void readOnlyTokensReadButDoNotWrite() {
    Account account = register();
    UUID conversation = api.createConversation(account.token());
    String reader =
        createToken(account.token(), Map.of("name", "reader", "scopes", List.of("read")))
            .path("token")
            .asText();
    assertThat(api.call("GET", "/api/conversations/" + conversation, reader, null).status())
        .isEqualTo(200);
    var write = api.call("POST", "/api/conversations", reader, Map.of("title", "no"));
    assertThat(write.status()).isEqualTo(403);
    assertThat(write.contentType()).startsWith("application/problem+json");
    assertThat(write.body().path("type").asText()).endsWith("/insufficient-scope");
    assertThat(api.call("PATCH", "/api/me", reader, Map.of("displayName", "x")).status())
        .isEqualTo(403);
    // Same on the WebSocket: it may subscribe, not send or cancel.
    try (var ws = new WsClient(port, reader)) {
      ws.await("ready", Duration.ofSeconds(10));
      ws.send(Map.of("type", "subscribe", "conversationId", conversation.toString()));
      ws.await("subscribed", Duration.ofSeconds(10));
      ws.send(
          Map.of(
              "type", "send_message", "conversationId", conversation.toString(), "content", "x"));
      assertThat(ws.await("error", Duration.ofSeconds(10)).path("code").asText())
          .isEqualTo("insufficient_scope");
    }
    assertThat(
            jdbc.sql("SELECT count(*) FROM messages WHERE conversation_id = :id")
                .param("id", conversation)
                .query(Long.class)
                .single())
        .isZero();
  }

  @Test
  void tokenRequestsAreValidated() {
    Account account = register();
    Map<String, Object> bad = new java.util.LinkedHashMap<>();
    bad.put("no name", Map.of());
    bad.put("blank name", Map.of("name", " "));
    bad.put("zero days", Map.of("name", "a", "expiresInDays", 0));
    bad.put("too many days", Map.of("name", "a", "expiresInDays", 5000));
    bad.put("unknown scope", Map.of("name", "a", "scopes", List.of("admin")));
    bad.put("no scopes", Map.of("name", "a", "scopes", List.of()));
    bad.put("days not a number", Map.of("name", "a", "expiresInDays", "soon"));
    bad.forEach((name, body) -> {
      var response = api.call("POST", "/api/tokens", account.token(), body);
      assertThat(response.status()).as(name).isEqualTo(400);
      assertThat(response.contentType()).as(name).startsWith("application/problem+json");
    });
    assertThat(api.call("GET", "/api/tokens", account.token(), null).body().path("items"))
        .isEmpty();
    assertThat(api.call("DELETE", "/api/tokens/not-a-uuid", account.token(), null).status())
        .isEqualTo(400);
  }

  @Test
  void expiredPersonalTokensStopWorkingAndDropOffTheList() {
    Account account = register();
    var created = createToken(account.token(), Map.of("name", "short", "expiresInDays", 1));
    String secret = created.path("token").asText();
    assertThat(api.call("GET", "/api/me", secret, null).status()).isEqualTo(200);
    jdbc.sql("UPDATE auth_tokens SET expires_at = now() - interval '1 minute' WHERE id = :id")
        .param("id", UUID.fromString(created.path("id").asText()))
        .update();
    assertThat(api.call("GET", "/api/me", secret, null).status()).isEqualTo(401);
    assertThat(api.call("GET", "/api/tokens", account.token(), null).body().path("items"))
        .isEmpty();
  }
}
