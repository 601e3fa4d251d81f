package dev.chorus.api.credential;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.chorus.api.common.ApiException;
import dev.chorus.api.support.ApiClient;
import dev.chorus.api.support.Stack;
import dev.chorus.model.crypto.CredentialCipher;
import dev.chorus.model.crypto.CredentialDecryptionException;
import dev.chorus.model.crypto.SealedCredential;
import dev.chorus.model.net.EgressPolicy;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.logging.LogLevel;
import org.springframework.boot.logging.LoggingSystem;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.test.context.ActiveProfiles;

/**
 * Users' own provider keys through the real REST surface and PostgreSQL: stored sealed, shown
 * masked, bound to their owner, never logged, and base URLs checked against SSRF.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@ActiveProfiles("test")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@ExtendWith(OutputCaptureExtension.class)
class CredentialIT {
  private static final String OPENAI = "cred-openai";
  private static final String LOCAL = "cred-local";
  private static final String PATH = "/api/me/credentials/";
  private static final List<String> VERBOSE =
      List.of("org.springframework.web", "org.springframework.jdbc", "dev.chorus");

  @LocalServerPort int port;
  @Autowired JdbcClient jdbc;
  @Autowired CredentialService service;
  @Autowired CredentialStore store;
  @Autowired CredentialRotation rotation;
  @Autowired EgressPolicy egress;
  @Autowired ObjectMapper json;

  @Value("${chorus.credentials.master-keys}")
  String keyring;

  private ApiClient api;

  @BeforeAll
  void stackAndProviders() {
    Stack.require();
    api = new ApiClient(port);
    jdbc.sql(
            """
            INSERT INTO providers (id, kind, server_configured) VALUES
              ('cred-openai', 'openai', false),
              ('cred-local', 'openai-compatible', false),
              ('mock', 'mock', true)
            ON CONFLICT DO NOTHING
            """)
        .update();
  }

  @AfterEach
  void quiet() {
    LoggingSystem logging = LoggingSystem.get(getClass().getClassLoader());
    VERBOSE.forEach(name -> logging.setLogLevel(name, null));
  }

  /** A fresh, recognizable, valid-looking key. */
  private static String newKey() {
    return "sk-proj-" + UUID.randomUUID().toString().replace("-", "") + "Zq9X";
  }

  private record User(String token, UUID id) {}

  private User user() {
    String token = api.register();
    UUID id = UUID.fromString(api.call("GET", "/api/me", token, null).body().get("id").asText());
    return new User(token, id);
  }

  private ApiClient.Response put(User user, String provider, Object body) {
    return api.call("PUT", PATH + provider, user.token(), body);
  }

  private long rows(User user) {
    return jdbc.sql("SELECT count(*) FROM user_credentials WHERE user_id = :u")
        .param("u", user.id())
        .query(Long.class)
        .single();
  }

  private static void assertProblem(ApiClient.Response response, int status) {
    assertThat(response.status()).as(String.valueOf(response.body())).isEqualTo(status);
    assertThat(response.contentType()).startsWith("application/problem+json");
  }

  private static void assertFieldError(ApiClient.Response response, String field) {
    assertProblem(response, 400);
    assertThat(response.body().path("errors").findValuesAsText("field")).contains(field);
  }

  @Test
  void roundTripShowsOnlyAMaskedKey() {
    User user = user();
    String key = newKey();
    var created = put(user, OPENAI, Map.of("apiKey", key));
    assertThat(created.status()).isEqualTo(200);
    assertThat(created.body().get("provider").asText()).isEqualTo(OPENAI);
    assertThat(created.body().get("keyHint").asText()).isEqualTo("sk-…Zq9X");
    assertThat(created.body().has("apiKey")).isFalse();
    assertThat(created.body().has("baseUrl")).isFalse();
    assertThat(created.body().toString()).doesNotContain(key);
    String createdAt = created.body().get("createdAt").asText();

    var one = api.call("GET", PATH + OPENAI, user.token(), null);
    assertThat(one.status()).isEqualTo(200);
    assertThat(one.body()).isEqualTo(created.body());
    var list = api.call("GET", "/api/me/credentials", user.token(), null);
    assertThat(list.status()).isEqualTo(200);
    assertThat(list.body().get("items")).hasSize(1);
    assertThat(list.body().get("items").get(0)).isEqualTo(created.body());
    assertThat(list.body().get("nextCursor").isNull()).isTrue();
    assertThat(service.open(user.id(), OPENAI)).contains(key);

    String replacement = "sk-other-" + UUID.randomUUID() + "-Wxyz";
    var replaced =
        put(
            user,
            OPENAI,
            Map.of("apiKey", "  " + replacement + "\n", "baseUrl", "https://1.1.1.1/v1"));
    assertThat(replaced.status()).isEqualTo(200);
    assertThat(replaced.body().get("keyHint").asText()).isEqualTo("sk-…Wxyz");
    assertThat(replaced.body().get("baseUrl").asText()).isEqualTo("https://1.1.1.1/v1");
    assertThat(replaced.body().get("createdAt").asText()).isEqualTo(createdAt);
    assertThat(service.open(user.id(), OPENAI)).contains(replacement);
    assertThat(rows(user)).isEqualTo(1);

    var baseUrlOnly = put(user, LOCAL, Map.of("baseUrl", "http://[2606:4700:4700::1111]:1234/v1"));
    assertThat(baseUrlOnly.status()).isEqualTo(200);
    assertThat(baseUrlOnly.body().has("keyHint")).isFalse();
    assertThat(service.open(user.id(), LOCAL)).contains("");
    assertThat(api.call("GET", "/api/me/credentials", user.token(), null).body().get("items"))
        .hasSize(2);

    assertThat(api.call("DELETE", PATH + OPENAI, user.token(), null).status()).isEqualTo(204);
    assertProblem(api.call("GET", PATH + OPENAI, user.token(), null), 404);
    assertProblem(api.call("DELETE", PATH + OPENAI, user.token(), null), 404);
    assertThat(rows(user)).isEqualTo(1);
  }

  @Test
  void thePlaintextKeyIsNowhereInTheRow() {
    User user = user();
    String key = newKey();
    assertThat(put(user, OPENAI, Map.of("apiKey", key)).status()).isEqualTo(200);
    byte[] plain = key.getBytes(StandardCharsets.UTF_8);
    String hex = HexFormat.of().formatHex(plain);
    // The secret part, without the "sk-proj-" prefix and the 4 characters the hint shows.
    String secret = key.substring(8, key.length() - 4);

    List<Object> columns = new ArrayList<>();
    jdbc.sql("SELECT * FROM user_credentials WHERE user_id = :u")
        .param("u", user.id())
        .query(rs -> {
          for (int i = 1; i <= rs.getMetaData().getColumnCount(); i++) {
            columns.add(rs.getObject(i));
            columns.add(rs.getString(i));
          }
        });
    assertThat(columns).hasSize(2 * 9);
    for (Object column : columns) {
      if (column instanceof byte[] bytes) {
        assertThat(indexOf(bytes, plain)).isEqualTo(-1);
        assertThat(indexOf(bytes, secret.getBytes(StandardCharsets.UTF_8))).isEqualTo(-1);
      } else {
        assertThat(String.valueOf(column)).doesNotContain(secret).doesNotContain(hex);
      }
    }
    String asJson =
        jdbc.sql("SELECT row_to_json(c)::text FROM user_credentials c WHERE user_id = :u")
            .param("u", user.id())
            .query(String.class)
            .single();
    assertThat(asJson).doesNotContain(secret).doesNotContain(hex).contains("\"key_id\":\"test1\"");
  }

  private static int indexOf(byte[] haystack, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= haystack.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (haystack[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }

  @Test
  void aCiphertextCopiedToAnotherUserDoesNotOpen() {
    User alice = user();
    User bob = user();
    String aliceKey = newKey();
    String bobKey = newKey();
    assertThat(put(alice, OPENAI, Map.of("apiKey", aliceKey)).status()).isEqualTo(200);
    assertThat(put(bob, OPENAI, Map.of("apiKey", bobKey)).status()).isEqualTo(200);
    assertThat(put(alice, LOCAL, Map.of("apiKey", aliceKey)).status()).isEqualTo(200);

    // An attacker with write access to the table copies Alice's sealed key into Bob's row...
    jdbc.sql(
            """
            UPDATE user_credentials b SET key_id = a.key_id, nonce = a.nonce, ciphertext = a.ciphertext
            FROM user_credentials a
            WHERE a.user_id = :alice AND a.provider = :provider
              AND b.user_id = :bob AND b.provider = :provider
            """)
        .param("alice", alice.id())
        .param("bob", bob.id())
        .param("provider", OPENAI)
        .update();
    // ...and into Alice's row of another provider.
    jdbc.sql(
            """
            UPDATE user_credentials b SET nonce = a.nonce, ciphertext = a.ciphertext
            FROM user_credentials a
            WHERE a.user_id = :alice AND a.provider = :from AND b.user_id = :alice AND b.provider = :to
            """)
        .param("alice", alice.id())
        .param("from", OPENAI)
        .param("to", LOCAL)
        .update();

    assertThatThrownBy(() -> service.open(bob.id(), OPENAI))
        .isInstanceOf(CredentialDecryptionException.class)
        .hasMessageContaining("does not belong")
        .hasMessageNotContaining(aliceKey)
        .hasMessageNotContaining(bobKey);
    assertThatThrownBy(() -> service.open(alice.id(), LOCAL))
        .isInstanceOf(CredentialDecryptionException.class);
    assertThat(service.open(alice.id(), OPENAI)).contains(aliceKey);

    var bobsView = api.call("GET", PATH + OPENAI, bob.token(), null);
    assertThat(bobsView.status()).isEqualTo(200);
    assertThat(bobsView.body().toString()).doesNotContain(aliceKey).doesNotContain(bobKey);
    assertThat(bobsView.body().get("keyHint").asText()).isEqualTo("sk-…Zq9X");
  }

  @Test
  void anotherUsersCredentialsAreInvisible() {
    User alice = user();
    User bob = user();
    assertThat(put(alice, OPENAI, Map.of("apiKey", newKey())).status()).isEqualTo(200);

    assertProblem(api.call("GET", PATH + OPENAI, bob.token(), null), 404);
    assertProblem(api.call("DELETE", PATH + OPENAI, bob.token(), null), 404);
    assertThat(api.call("GET", "/api/me/credentials", bob.token(), null).body().get("items"))
        .isEmpty();
    assertThat(api.call("GET", PATH + OPENAI, alice.token(), null).status()).isEqualTo(200);
    assertThat(api.call("GET", "/api/me/credentials", null, null).status()).isEqualTo(401);
    assertThat(api.call("PUT", PATH + OPENAI, null, Map.of("apiKey", newKey())).status())
        .isEqualTo(401);
  }

  @Test
  void theKeyNeverReachesTheLogs(CapturedOutput output) {
    LoggingSystem logging = LoggingSystem.get(getClass().getClassLoader());
    VERBOSE.forEach(name -> logging.setLogLevel(name, LogLevel.TRACE));
    User user = user();
    String key = newKey();

    assertThat(put(user, OPENAI, Map.of("apiKey", key)).status()).isEqualTo(200);
    assertThat(api.call("GET", PATH + OPENAI, user.token(), null).status()).isEqualTo(200);
    assertThat(api.call("GET", "/api/me/credentials", user.token(), null).status()).isEqualTo(200);
    // Failed PUTs carrying the key in every way a body can be wrong.
    assertProblem(put(user, OPENAI, "{\"apiKey\": " + key + "}"), 400);
    assertProblem(put(user, OPENAI, "{\"apiKey\": \"" + key + "\""), 400);
    assertProblem(put(user, OPENAI, "[\"" + key + "\"]"), 400);
    assertFieldError(put(user, OPENAI, Map.of("apiKey", key + " " + key)), "apiKey");
    assertFieldError(put(user, OPENAI, Map.of("apiKey", key + "\u0000")), "apiKey");
    assertFieldError(put(user, OPENAI, Map.of("apiKey", key.repeat(200))), "apiKey");
    assertFieldError(put(user, OPENAI, Map.of("apiKey", List.of(key))), "apiKey");
    assertFieldError(
        put(user, OPENAI, Map.of("apiKey", key, "baseUrl", "http://127.0.0.1/" + key)), "baseUrl");
    assertFieldError(
        put(user, OPENAI, Map.of("apiKey", key, "baseUrl", "https://" + key + "@1.1.1.1/")),
        "baseUrl");
    assertProblem(put(user, "no-such-provider", Map.of("apiKey", key)), 404);
    assertProblem(put(user, "mock", Map.of("apiKey", key)), 400);
    assertProblem(put(user, "Bad!", Map.of("apiKey", key)), 400);
    assertThat(api.call("DELETE", PATH + OPENAI, user.token(), null).status()).isEqualTo(204);

    assertThat(output.getAll())
        .as("verbose logging was on and captured")
        .contains("user_credentials");
    byte[] bytes = key.getBytes(StandardCharsets.UTF_8);
    StringBuilder decimal = new StringBuilder(); // how Spring's debug logs print a byte[]
    for (byte b : bytes) {
      decimal.append(decimal.isEmpty() ? "" : ", ").append(b);
    }
    assertThat(output.getAll())
        .doesNotContain(key)
        .doesNotContain(key.substring(8, 30))
        .doesNotContain(decimal.toString())
        .doesNotContainIgnoringCase(HexFormat.of().formatHex(bytes))
        .doesNotContain(java.util.Base64.getEncoder().encodeToString(bytes).substring(0, 40));
  }

  @Test
  void baseUrlsThatReachInsideAreRejected() {
    User user = user();
    String key = newKey();
    assertThat(put(user, OPENAI, Map.of("apiKey", key, "baseUrl", "https://1.1.1.1/v1")).status())
        .isEqualTo(200);
    SealedCredential before = store.sealed(user.id(), OPENAI).orElseThrow();

    Map<String, String> rejected = new LinkedHashMap<>();
    rejected.put("http://127.0.0.1:1234/v1", "loopback");
    rejected.put("http://localhost:1234/v1", "loopback");
    rejected.put("http://[::1]:11434", "loopback");
    rejected.put("http://169.254.169.254/latest/meta-data/", "metadata");
    rejected.put("http://[fd00:ec2::254]/", "unique-local");
    rejected.put("http://10.0.0.5/v1", "private address 10.0.0.5");
    rejected.put("http://192.168.1.20:8000/v1", "private");
    rejected.put("http://172.16.3.4/", "private");
    rejected.put("http://100.64.0.1/", "carrier-grade NAT");
    rejected.put("http://0.0.0.0:8080/", "unspecified");
    rejected.put("http://[::ffff:127.0.0.1]/v1", "loopback");
    rejected.put("http://[::ffff:7f00:1]/v1", "loopback");
    rejected.put("http://[0:0:0:0:0:ffff:127.0.0.1]", "loopback");
    rejected.put("http://[::ffff:169.254.169.254]/", "metadata");
    rejected.put("http://[64:ff9b::a9fe:a9fe]/", "metadata");
    rejected.put("http://2130706433/", "non-standard notation");
    rejected.put("http://0177.0.0.1/", "non-standard notation");
    rejected.put("http://0x7f.0.0.1/", "non-standard notation");
    rejected.put("http://127.1/", "non-standard notation");
    rejected.put("file:///etc/passwd", "http or https");
    rejected.put("gopher://1.1.1.1/", "http or https");
    rejected.put("https://user:pw@1.1.1.1/", "user info");
    rejected.put("https://1.1.1.1/#x", "fragment");
    rejected.put("not a url", "not a valid URL");
    for (var entry : rejected.entrySet()) {
      for (String provider : List.of(OPENAI, LOCAL)) {
        var response = put(user, provider, Map.of("apiKey", newKey(), "baseUrl", entry.getKey()));
        assertFieldError(response, "baseUrl");
        JsonNode error = response.body().get("errors").get(0);
        assertThat(error.get("message").asText()).as(entry.getKey()).contains(entry.getValue());
      }
    }
    assertThat(store.sealed(user.id(), OPENAI)).contains(before);
    assertThat(store.find(user.id(), LOCAL)).isEmpty();
    assertThat(rows(user)).isEqualTo(1);
  }

  @Test
  void invalidRequestsAreProblemsAndStoreNothing() {
    User user = user();
    assertProblem(put(user, "no-such-provider", Map.of("apiKey", newKey())), 404);
    var mock = put(user, "mock", Map.of("apiKey", newKey()));
    assertProblem(mock, 400);
    assertThat(mock.body().get("detail").asText()).isEqualTo("mock needs no key");
    assertFieldError(put(user, "Bad!", Map.of("apiKey", newKey())), "provider");
    assertFieldError(put(user, "-x", Map.of("apiKey", newKey())), "provider");
    assertFieldError(put(user, "x".repeat(64), Map.of("apiKey", newKey())), "provider");
    assertFieldError(put(user, OPENAI, Map.of()), "apiKey");
    assertFieldError(put(user, OPENAI, Map.of("apiKey", "   ")), "apiKey");
    assertFieldError(put(user, OPENAI, Map.of("apiKey", 12345)), "apiKey");
    assertFieldError(put(user, OPENAI, Map.of("apiKey", "k".repeat(4097))), "apiKey");
    assertFieldError(put(user, OPENAI, Map.of("apiKey", "sk-clé-unicode-000000")), "apiKey");
    assertFieldError(
        put(user, OPENAI, Map.of("baseUrl", "https://1.1.1.1/" + "p".repeat(2048))), "baseUrl");
    assertFieldError(put(user, OPENAI, Map.of("apiKey", newKey(), "baseUrl", 42)), "baseUrl");
    assertProblem(put(user, OPENAI, "{not json"), 400);
    assertProblem(put(user, OPENAI, "\"just a string\""), 400);
    assertProblem(api.call("PUT", PATH + OPENAI, user.token(), null), 400);
    assertProblem(api.call("GET", PATH + "Bad!", user.token(), null), 400);
    assertThat(rows(user)).isZero();
  }

  @Test
  void withoutMasterKeysStoringAnswers503() {
    var unconfigured =
        new CredentialService(store, new CredentialProperties(" ", null), egress, json);
    User user = user();
    assertThatThrownBy(() ->
            unconfigured.put(
                user.id(),
                OPENAI,
                ("{\"apiKey\":\"" + newKey() + "\"}").getBytes(StandardCharsets.UTF_8)))
        .isInstanceOfSatisfying(
            ApiException.class,
            e -> {
              assertThat(e.status().value()).isEqualTo(503);
              assertThat(e.getMessage())
                  .isEqualTo("credential storage is not configured: set CHORUS_MASTER_KEYS");
            });
    assertThat(rows(user)).isZero();
    assertThat(new CredentialProperties("k1:secret", null).toString()).doesNotContain("secret");
  }

  @Test
  void rotationReSealsRowsOfOlderKeysOnce() {
    User user = user();
    String key = newKey();
    String oldEntry =
        Arrays.stream(keyring.split(",")).filter(e -> e.startsWith("test0:")).findFirst().get();
    SealedCredential old = CredentialCipher.fromKeyring(oldEntry).seal(user.id(), OPENAI, key);
    assertThat(old.keyId()).isEqualTo("test0");
    jdbc.sql(
            """
            INSERT INTO user_credentials (user_id, provider, key_id, nonce, ciphertext, key_hint)
            VALUES (:u, :p, :k, :n, :c, 'sk-…Zq9X')
            """)
        .param("u", user.id())
        .param("p", OPENAI)
        .param("k", old.keyId())
        .param("n", old.nonce())
        .param("c", old.ciphertext())
        .update();
    // A row of a master key nobody has any more: reported, skipped, left alone.
    SealedCredential orphan = new SealedCredential("gone", old.nonce(), old.ciphertext());
    jdbc.sql(
            """
            INSERT INTO user_credentials (user_id, provider, key_id, nonce, ciphertext)
            VALUES (:u, :p, :k, :n, :c)
            """)
        .param("u", user.id())
        .param("p", LOCAL)
        .param("k", orphan.keyId())
        .param("n", orphan.nonce())
        .param("c", orphan.ciphertext())
        .update();

    var first = rotation.rotate();
    assertThat(first.resealed()).isGreaterThanOrEqualTo(1);
    assertThat(first.unreadable()).isGreaterThanOrEqualTo(1);
    SealedCredential now = store.sealed(user.id(), OPENAI).orElseThrow();
    assertThat(now.keyId()).isEqualTo("test1");
    assertThat(now).isNotEqualTo(old);
    assertThat(service.open(user.id(), OPENAI)).contains(key);
    assertThat(store.sealed(user.id(), LOCAL)).contains(orphan);

    var second = rotation.rotate();
    assertThat(store.sealed(user.id(), OPENAI)).contains(now);
    assertThat(second.resealed()).as("nothing is left to re-seal").isZero();
    jdbc.sql("DELETE FROM user_credentials WHERE user_id = :u AND key_id = 'gone'")
        .param("u", user.id())
        .update();
  }
}
