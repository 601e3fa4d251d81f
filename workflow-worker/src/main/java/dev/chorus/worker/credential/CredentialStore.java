package dev.chorus.worker.credential;

import dev.chorus.model.crypto.CredentialCipher;
import dev.chorus.model.crypto.CredentialDecryptionException;
import dev.chorus.model.crypto.SealedCredential;
import java.util.Optional;
import java.util.UUID;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Component;

/**
 * Reads users' own provider keys, sealed by the api-server, and opens them for the activity that
 * calls the provider. Keys travel through Temporal only as a reference (user id + provider).
 */
@Component
public class CredentialStore {
  private record Row(SealedCredential sealed, String baseUrl) {}

  private final JdbcClient jdbc;
  private final CredentialCipher cipher;

  @Autowired
  public CredentialStore(JdbcClient jdbc, CredentialProperties properties) {
    this(jdbc, properties.cipherOrNull());
  }

  CredentialStore(JdbcClient jdbc, CredentialCipher cipher) {
    this.jdbc = jdbc;
    this.cipher = cipher;
  }

  /**
   * The user's credential for a provider, or empty when there is none.
   *
   * @throws CredentialDecryptionException when one is stored but cannot be opened here (no or other
   *     master keys, or a tampered row); the message never contains key material
   */
  public Optional<UserCredential> find(UUID userId, String provider) {
    Optional<Row> row =
        jdbc.sql(
                """
                SELECT key_id, nonce, ciphertext, base_url FROM user_credentials
                WHERE user_id = :user AND provider = :provider
                """)
            .param("user", userId)
            .param("provider", provider)
            .query((rs, i) ->
                new Row(
                    new SealedCredential(
                        rs.getString("key_id"), rs.getBytes("nonce"), rs.getBytes("ciphertext")),
                    rs.getString("base_url")))
            .optional();
    if (row.isEmpty()) {
      return Optional.empty();
    }
    if (cipher == null) {
      throw new CredentialDecryptionException(
          "a user key for "
              + provider
              + " is stored, but this worker has no master keys: set CHORUS_MASTER_KEYS");
    }
    String apiKey = cipher.open(userId, provider, row.get().sealed());
    return Optional.of(
        new UserCredential(provider, apiKey.isEmpty() ? null : apiKey, row.get().baseUrl()));
  }
}
