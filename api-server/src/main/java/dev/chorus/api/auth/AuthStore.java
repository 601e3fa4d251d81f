package dev.chorus.api.auth;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.chorus.api.auth.AuthDtos.TokenView;
import dev.chorus.api.auth.AuthDtos.UserView;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
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

  Optional<String> passwordHash(UUID userId) {
    return jdbc.sql("SELECT password_hash FROM users WHERE id = :id")
        .param("id", userId)
        .query(String.class)
        .optional();
  }

  /**
   * Replaces the stored hash. {@code changed} says the password itself changed (not only its
   * hashing), which is recorded.
   */
  void setPasswordHash(UUID userId, String hash, boolean changed) {
    jdbc.sql(
            """
            UPDATE users SET password_hash = :hash,
              password_changed_at = CASE WHEN :changed THEN now() ELSE password_changed_at END,
              updated_at = CASE WHEN :changed THEN now() ELSE updated_at END
            WHERE id = :id
            """)
        .param("hash", hash)
        .param("changed", changed)
        .param("id", userId)
        .update();
  }

  Optional<UserView> user(UUID id) {
    return jdbc.sql("SELECT id, email, display_name, preferences FROM users WHERE id = :id")
        .param("id", id)
        .query((rs, i) ->
            new UserView(
                rs.getObject("id", UUID.class),
                rs.getString("email"),
                rs.getString("display_name"),
                readJson(rs.getString("preferences"))))
        .optional();
  }

  void updateProfile(UUID id, String displayName, JsonNode preferences) {
    jdbc.sql(
            """
            UPDATE users SET display_name = :name, preferences = CAST(:prefs AS jsonb),
              updated_at = now()
            WHERE id = :id
            """)
        .param("name", displayName)
        .param("prefs", preferences.toString())
        .param("id", id)
        .update();
  }

  /** Deletes the user; every row they own goes with it (ON DELETE CASCADE). */
  boolean deleteUser(UUID id) {
    return jdbc.sql("DELETE FROM users WHERE id = :id").param("id", id).update() == 1;
  }

  UUID insertToken(
      String token, UUID userId, Instant expiresAt, String kind, String name, List<String> scopes) {
    UUID id = UUID.randomUUID();
    jdbc.sql(
            """
            INSERT INTO auth_tokens (id, token_hash, user_id, expires_at, kind, name, scopes)
            VALUES (:id, :hash, :user, :expires, :kind, :name, :scopes)
            """)
        .param("id", id)
        .param("hash", hash(token))
        .param("user", userId)
        .param("expires", expiresAt == null ? null : Timestamp.from(expiresAt))
        .param("kind", kind)
        .param("name", name)
        .param("scopes", scopes.toArray(String[]::new))
        .update();
    return id;
  }

  /**
   * The token's user if the token is valid now. Marks it used, at most once a minute, so that
   * listing tokens can say when each was last used without a write on every request.
   */
  Optional<Authenticated> resolve(String token) {
    record Row(Authenticated resolved, Instant lastUsed) {}
    Optional<Row> row =
        jdbc.sql(
                """
                SELECT t.id AS token_id, t.kind, t.scopes, t.last_used_at,
                       u.id, u.email, u.display_name
                FROM auth_tokens t JOIN users u ON u.id = t.user_id
                WHERE t.token_hash = :hash AND t.revoked_at IS NULL
                  AND (t.expires_at IS NULL OR t.expires_at > now())
                """)
            .param("hash", hash(token))
            .query((rs, i) ->
                new Row(
                    new Authenticated(
                        new CurrentUser(
                            rs.getObject("id", UUID.class),
                            rs.getString("email"),
                            rs.getString("display_name")),
                        new AccessToken(
                            rs.getObject("token_id", UUID.class),
                            rs.getString("kind"),
                            new LinkedHashSet<>(scopes(rs)))),
                    instant(rs, "last_used_at")))
            .optional();
    row.filter(r -> r.lastUsed() == null || r.lastUsed().isBefore(Instant.now().minusSeconds(60)))
        .ifPresent(r ->
            jdbc.sql("UPDATE auth_tokens SET last_used_at = now() WHERE id = :id")
                .param("id", r.resolved().token().id())
                .update());
    return row.map(Row::resolved);
  }

  void revoke(String token) {
    jdbc.sql(
            "UPDATE auth_tokens SET revoked_at = now() WHERE token_hash = :hash AND revoked_at IS NULL")
        .param("hash", hash(token))
        .update();
  }

  /**
   * Revokes one token of {@code userId} of the given kind; false when there is no such live token.
   */
  boolean revoke(UUID userId, UUID tokenId, String kind) {
    return jdbc.sql(
                """
                UPDATE auth_tokens SET revoked_at = now()
                WHERE id = :id AND user_id = :user AND kind = :kind AND revoked_at IS NULL
                """)
            .param("id", tokenId)
            .param("user", userId)
            .param("kind", kind)
            .update()
        == 1;
  }

  /** Revokes every session token of {@code userId} but {@code keep}; returns how many. */
  int revokeOtherSessions(UUID userId, UUID keep) {
    return jdbc.sql(
            """
            UPDATE auth_tokens SET revoked_at = now()
            WHERE user_id = :user AND kind = 'session' AND revoked_at IS NULL AND id <> :keep
            """)
        .param("user", userId)
        .param("keep", keep)
        .update();
  }

  /** Live (neither revoked nor expired) personal tokens, newest first. */
  List<TokenView> personalTokens(UUID userId) {
    return liveTokens(userId, AccessToken.PERSONAL);
  }

  /** Live tokens of one kind ({@code session} or {@code personal}), the newest 200. */
  List<TokenView> liveTokens(UUID userId, String kind) {
    return jdbc.sql(
            """
            SELECT id, name, scopes, created_at, expires_at, last_used_at FROM auth_tokens
            WHERE user_id = :user AND kind = :kind AND revoked_at IS NULL
              AND (expires_at IS NULL OR expires_at > now())
            ORDER BY created_at DESC, id
            LIMIT 200
            """)
        .param("user", userId)
        .param("kind", kind)
        .query((rs, i) ->
            new TokenView(
                rs.getObject("id", UUID.class),
                rs.getString("name"),
                scopes(rs),
                instant(rs, "created_at"),
                instant(rs, "expires_at"),
                instant(rs, "last_used_at")))
        .list();
  }

  Optional<Instant> createdAt(UUID tokenId) {
    return jdbc.sql("SELECT created_at FROM auth_tokens WHERE id = :id")
        .param("id", tokenId)
        .query((rs, i) -> instant(rs, "created_at"))
        .optional();
  }

  private static List<String> scopes(ResultSet rs) throws SQLException {
    return Arrays.asList((String[]) rs.getArray("scopes").getArray());
  }

  private static Instant instant(ResultSet rs, String column) throws SQLException {
    Timestamp t = rs.getTimestamp(column);
    return t == null ? null : t.toInstant();
  }

  private JsonNode readJson(String text) {
    try {
      return json.readTree(text);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("corrupt preferences", e);
    }
  }

  static byte[] hash(String token) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
