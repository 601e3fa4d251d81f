package dev.chorus.api.credential;

import dev.chorus.model.crypto.SealedCredential;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Repository;

/** Users' sealed provider keys. Only ciphertext and a masked hint ever reach the database. */
@Repository
class CredentialStore {
  private static final String VIEW = "provider, key_hint, base_url, created_at, updated_at";

  /** A row as rotation sees it. */
  record Sealed(UUID userId, String provider, SealedCredential sealed) {}

  private final JdbcClient jdbc;

  CredentialStore(JdbcClient jdbc) {
    this.jdbc = jdbc;
  }

  /** The kind of a provider the workers serve, or empty when no worker serves it. */
  Optional<String> providerKind(String provider) {
    return jdbc.sql("SELECT kind FROM providers WHERE id = :id")
        .param("id", provider)
        .query(String.class)
        .optional();
  }

  CredentialView upsert(
      UUID userId, String provider, SealedCredential sealed, String keyHint, String baseUrl) {
    return jdbc.sql(
            """
            INSERT INTO user_credentials
                (user_id, provider, key_id, nonce, ciphertext, key_hint, base_url)
            VALUES (:user, :provider, :keyId, :nonce, :ciphertext, :hint, :baseUrl)
            ON CONFLICT (user_id, provider) DO UPDATE SET
                key_id = EXCLUDED.key_id, nonce = EXCLUDED.nonce, ciphertext = EXCLUDED.ciphertext,
                key_hint = EXCLUDED.key_hint, base_url = EXCLUDED.base_url, updated_at = now()
            RETURNING
            """
                + VIEW)
        .param("user", userId)
        .param("provider", provider)
        .param("keyId", sealed.keyId())
        .param("nonce", sealed.nonce())
        .param("ciphertext", sealed.ciphertext())
        .param("hint", keyHint)
        .param("baseUrl", baseUrl)
        .query(CredentialStore::view)
        .single();
  }

  List<CredentialView> list(UUID userId) {
    return jdbc.sql(
            "SELECT " + VIEW + " FROM user_credentials WHERE user_id = :user ORDER BY provider")
        .param("user", userId)
        .query(CredentialStore::view)
        .list();
  }

  Optional<CredentialView> find(UUID userId, String provider) {
    return jdbc.sql(
            "SELECT "
                + VIEW
                + " FROM user_credentials WHERE user_id = :user AND provider = :provider")
        .param("user", userId)
        .param("provider", provider)
        .query(CredentialStore::view)
        .optional();
  }

  Optional<SealedCredential> sealed(UUID userId, String provider) {
    return jdbc.sql(
            """
            SELECT key_id, nonce, ciphertext FROM user_credentials
            WHERE user_id = :user AND provider = :provider
            """)
        .param("user", userId)
        .param("provider", provider)
        .query((rs, i) ->
            new SealedCredential(
                rs.getString("key_id"), rs.getBytes("nonce"), rs.getBytes("ciphertext")))
        .optional();
  }

  boolean delete(UUID userId, String provider) {
    return jdbc.sql("DELETE FROM user_credentials WHERE user_id = :user AND provider = :provider")
            .param("user", userId)
            .param("provider", provider)
            .update()
        == 1;
  }

  /**
   * Up to {@code limit} rows not sealed by {@code activeKeyId}, in key order after the given row
   * (null: from the start), so rows that cannot be re-sealed are passed over, not met again.
   */
  List<Sealed> sealedWithOtherKeys(
      String activeKeyId, UUID afterUser, String afterProvider, int limit) {
    return jdbc.sql(
            """
            SELECT user_id, provider, key_id, nonce, ciphertext FROM user_credentials
            WHERE key_id <> :active
              AND (CAST(:afterUser AS uuid) IS NULL OR (user_id, provider) > (:afterUser, :afterProvider))
            ORDER BY user_id, provider
            LIMIT :limit
            """)
        .param("active", activeKeyId)
        .param("afterUser", afterUser)
        .param("afterProvider", afterProvider)
        .param("limit", limit)
        .query((rs, i) ->
            new Sealed(
                rs.getObject("user_id", UUID.class),
                rs.getString("provider"),
                new SealedCredential(
                    rs.getString("key_id"), rs.getBytes("nonce"), rs.getBytes("ciphertext"))))
        .list();
  }

  /**
   * Replaces a row's ciphertext only if it is still the one that was read: a key the user stored in
   * the meantime wins. Keeps {@code updated_at}, which is about the user's changes.
   */
  boolean replaceSealed(UUID userId, String provider, SealedCredential was, SealedCredential now) {
    return jdbc.sql(
                """
                UPDATE user_credentials SET key_id = :keyId, nonce = :nonce, ciphertext = :ciphertext
                WHERE user_id = :user AND provider = :provider
                  AND key_id = :oldKeyId AND nonce = :oldNonce
                """)
            .param("keyId", now.keyId())
            .param("nonce", now.nonce())
            .param("ciphertext", now.ciphertext())
            .param("user", userId)
            .param("provider", provider)
            .param("oldKeyId", was.keyId())
            .param("oldNonce", was.nonce())
            .update()
        == 1;
  }

  private static CredentialView view(ResultSet rs, int row) throws SQLException {
    return new CredentialView(
        rs.getString("provider"),
        rs.getString("key_hint"),
        rs.getString("base_url"),
        rs.getTimestamp("created_at").toInstant(),
        rs.getTimestamp("updated_at").toInstant());
  }
}
