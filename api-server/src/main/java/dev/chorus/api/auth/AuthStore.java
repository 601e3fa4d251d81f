package dev.chorus.api.auth;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.chorus.api.auth.AuthDtos.UserView;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.Optional;
import java.util.UUID;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Repository;

/** Users and their bearer tokens. Tokens are stored only as SHA-256 hashes. */
@Repository
class AuthStore {
  record Credentials(UUID id, String passwordHash) {}

  private final JdbcClient jdbc;
  private final ObjectMapper json;

  AuthStore(JdbcClient jdbc, ObjectMapper json) {
    this.jdbc = jdbc;
    this.json = json;
  }

  /** Inserts a user; returns false when the email is taken. */
  boolean insertUser(UUID id, String email, String passwordHash, String displayName) {
    return jdbc.sql(
                """
                INSERT INTO users (id, email, password_hash, display_name)
                VALUES (:id, :email, :hash, :name)
                ON CONFLICT DO NOTHING
                """)
            .param("id", id)
            .param("email", email)
            .param("hash", passwordHash)
            .param("name", displayName)
            .update()
        == 1;
  }

  Optional<Credentials> credentials(String email) {
    return jdbc.sql("SELECT id, password_hash FROM users WHERE lower(email) = lower(:email)")
        .param("email", email)
        .query((rs, i) -> new Credentials(rs.getObject("id", UUID.class), rs.getString(2)))
        .optional();
  }

  Optional<UserView> user(UUID id) {
    return jdbc.sql("SELECT id, email, display_name, preferences FROM users WHERE id = :id")
        .param("id", id)
        .query((rs, i) -> {
          try {
            return new UserView(
                rs.getObject("id", UUID.class),
                rs.getString("email"),
                rs.getString("display_name"),
                json.readTree(rs.getString("preferences")));
          } catch (JsonProcessingException e) {
            throw new IllegalStateException("corrupt preferences", e);
          }
        })
        .optional();
  }

  void insertToken(String token, UUID userId, Instant expiresAt) {
    jdbc.sql(
            "INSERT INTO auth_tokens (token_hash, user_id, expires_at) VALUES (:hash, :user, :expires)")
        .param("hash", hash(token))
        .param("user", userId)
        .param("expires", Timestamp.from(expiresAt))
        .update();
  }

  Optional<CurrentUser> resolve(String token) {
    return jdbc.sql(
            """
            SELECT u.id, u.email, u.display_name FROM auth_tokens t JOIN users u ON u.id = t.user_id
            WHERE t.token_hash = :hash AND t.revoked_at IS NULL AND t.expires_at > now()
            """)
        .param("hash", hash(token))
        .query((rs, i) ->
            new CurrentUser(rs.getObject("id", UUID.class), rs.getString(2), rs.getString(3)))
        .optional();
  }

  void revoke(String token) {
    jdbc.sql(
            "UPDATE auth_tokens SET revoked_at = now() WHERE token_hash = :hash AND revoked_at IS NULL")
        .param("hash", hash(token))
        .update();
  }

  static byte[] hash(String token) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
