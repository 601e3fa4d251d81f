package dev.chorus.worker.credential;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.chorus.model.crypto.CredentialCipher;
import dev.chorus.model.crypto.CredentialDecryptionException;
import dev.chorus.model.crypto.SealedCredential;
import dev.chorus.worker.support.WorkerIntegrationTest;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;

/** The worker opens what the api-server sealed, and nothing else, against the real PostgreSQL. */
@WorkerIntegrationTest
class CredentialStoreIT {
  private static final String KEY = "sk-test-W0rkerSideSecret-1234";

  @Autowired JdbcClient jdbc;

  private final CredentialCipher cipher = CredentialCipher.fromKeyring("k1:" + randomKey());

  private static String randomKey() {
    byte[] raw = new byte[32];
    new SecureRandom().nextBytes(raw);
    return Base64.getEncoder().encodeToString(raw);
  }

  private UUID user() {
    UUID id = UUID.randomUUID();
    jdbc.sql("INSERT INTO users (id, email, password_hash) VALUES (:id, :email, 'x')")
        .param("id", id)
        .param("email", id + "@example.com")
        .update();
    return id;
  }

  private void store(UUID user, String provider, SealedCredential sealed, String baseUrl) {
    jdbc.sql(
            """
            INSERT INTO user_credentials (user_id, provider, key_id, nonce, ciphertext, key_hint, base_url)
            VALUES (:user, :provider, :keyId, :nonce, :ciphertext, 'hint', :baseUrl)
            """)
        .param("user", user)
        .param("provider", provider)
        .param("keyId", sealed.keyId())
        .param("nonce", sealed.nonce())
        .param("ciphertext", sealed.ciphertext())
        .param("baseUrl", baseUrl)
        .update();
  }

  @Test
  void opensTheUsersOwnKey() {
    UUID user = user();
    store(user, "openai", cipher.seal(user, "openai", KEY), "https://api.example.com/v1");
    store(user, "ollama", cipher.seal(user, "ollama", ""), "https://ollama.example.com");
    var credentials = new CredentialStore(jdbc, cipher);

    UserCredential openai = credentials.find(user, "openai").orElseThrow();
    assertThat(openai.apiKey()).isEqualTo(KEY);
    assertThat(openai.baseUrl()).isEqualTo("https://api.example.com/v1");
    assertThat(openai.toString()).doesNotContain(KEY).contains("sk-…1234");
    assertThat(credentials.find(user, "ollama").orElseThrow().apiKey()).isNull();
    assertThat(credentials.find(user, "anthropic")).isEmpty();
    assertThat(credentials.find(UUID.randomUUID(), "openai")).isEmpty();
  }

  @Test
  void aCiphertextCopiedToAnotherUserDoesNotOpen() {
    UUID alice = user();
    UUID bob = user();
    store(alice, "openai", cipher.seal(alice, "openai", KEY), null);
    SealedCredential stolen =
        jdbc.sql("SELECT key_id, nonce, ciphertext FROM user_credentials WHERE user_id = :u")
            .param("u", alice)
            .query((rs, i) -> new SealedCredential(rs.getString(1), rs.getBytes(2), rs.getBytes(3)))
            .single();
    store(bob, "openai", stolen, null);
    store(alice, "anthropic", stolen, null);
    var credentials = new CredentialStore(jdbc, cipher);

    assertThatThrownBy(() -> credentials.find(bob, "openai"))
        .isInstanceOf(CredentialDecryptionException.class)
        .hasMessageNotContaining(KEY);
    assertThatThrownBy(() -> credentials.find(alice, "anthropic"))
        .isInstanceOf(CredentialDecryptionException.class);
    assertThat(credentials.find(alice, "openai").orElseThrow().apiKey()).isEqualTo(KEY);
  }

  @Test
  void withoutMasterKeysAStoredKeyIsAClearError() {
    UUID user = user();
    store(user, "openai", cipher.seal(user, "openai", KEY), null);
    var unconfigured = new CredentialStore(jdbc, new CredentialProperties("", null));
    assertThatThrownBy(() -> unconfigured.find(user, "openai"))
        .isInstanceOf(CredentialDecryptionException.class)
        .hasMessageContaining("CHORUS_MASTER_KEYS");
    assertThat(unconfigured.find(user, "gemini")).isEmpty();
  }

  @Test
  void propertiesNeverPrintTheKeyring() {
    String keyring = "k1:" + randomKey();
    assertThat(new CredentialProperties(keyring, null).toString())
        .doesNotContain(keyring.substring(3))
        .contains("<set>");
  }
}
