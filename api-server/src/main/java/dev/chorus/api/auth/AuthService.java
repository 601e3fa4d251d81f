package dev.chorus.api.auth;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.chorus.api.auth.AuthDtos.CreatedToken;
import dev.chorus.api.auth.AuthDtos.TokenResponse;
import dev.chorus.api.auth.AuthDtos.TokenView;
import dev.chorus.api.auth.AuthDtos.UserView;
import dev.chorus.api.common.ApiException;
import dev.chorus.api.common.NotFoundException;
import dev.chorus.api.query.QueryService;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.springframework.http.HttpStatus;
import org.springframework.security.crypto.password.PasswordEncoder;
import org.springframework.stereotype.Service;

/** Accounts, their sessions and their personal access tokens. */
@Service
public class AuthService {
  static final int MAX_PERSONAL_TOKENS = 50;
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final List<String> ALL_SCOPES = List.of(AccessToken.READ, AccessToken.WRITE);

  private final AuthStore store;
  private final PasswordEncoder passwords;
  private final AuthProperties properties;
  private final LoginThrottle throttle;
  private final Preferences preferences;
  private final QueryService queries;
  private final Clock clock;

  /** Compared against when the email is unknown, so timing does not tell which emails exist. */
  private final String decoyHash;

  AuthService(
      AuthStore store,
      PasswordEncoder passwords,
      AuthProperties properties,
      LoginThrottle throttle,
      Preferences preferences,
      QueryService queries) {
    this.store = store;
    this.queries = queries;
    this.passwords = passwords;
    this.properties = properties;
    this.throttle = throttle;
    this.preferences = preferences;
    this.clock = Clock.systemUTC();
    this.decoyHash = passwords.encode("decoy password " + RANDOM.nextLong());
  }

  TokenResponse register(AuthDtos.RegisterRequest request) {
    UUID id = UUID.randomUUID();
    String email = request.email().trim();
    if (!store.insertUser(id, email, passwords.encode(request.password()), request.displayName())) {
      throw new ApiException(
          HttpStatus.CONFLICT, "email-taken", "an account with this email already exists");
    }
    return issueSession(id);
  }

  /**
   * Checks the password (after the brute-force throttle, so a locked-out email costs no hashing)
   * and re-hashes it with the current algorithm when the stored hash is older.
   */
  TokenResponse login(AuthDtos.LoginRequest request, String clientAddress) {
    String email = request.email().trim();
    throttle.check(email, clientAddress);
    var credentials = store.credentials(email);
    boolean ok;
    if (credentials.isPresent()) {
      ok = matches(request.password(), credentials.get().passwordHash());
    } else {
      matches(request.password(), decoyHash);
      ok = false;
    }
    if (!ok) {
      throttle.failed(email, clientAddress);
      throw new ApiException(
          HttpStatus.UNAUTHORIZED, "invalid-credentials", "email or password is wrong");
    }
    throttle.succeeded(email);
    UUID userId = credentials.get().id();
    if (passwords.upgradeEncoding(credentials.get().passwordHash())) {
      store.setPasswordHash(userId, passwords.encode(request.password()), false);
    }
    return issueSession(userId);
  }

  void logout(String token) {
    store.revoke(token);
  }

  UserView me(UUID userId) {
    return store.user(userId).orElseThrow(() -> new NotFoundException("user"));
  }

  /**
   * Applies a partial update: {@code displayName} (null clears it) and {@code preferences}, merged
   * key by key (a null value removes the key), checked by {@link Preferences}.
   */
  UserView updateMe(UUID userId, JsonNode patch) {
    if (patch == null || !patch.isObject()) {
      throw invalid("the body must be a JSON object");
    }
    UserView current = me(userId);
    String displayName = current.displayName();
    ObjectNode prefs =
        current.preferences() instanceof ObjectNode o
            ? o.deepCopy()
            : JsonNodeFactory.instance.objectNode();
    for (var field : patch.properties()) {
      switch (field.getKey()) {
        case "displayName" -> displayName = displayName(field.getValue());
        case "preferences" -> preferences.merge(userId, prefs, field.getValue());
        default ->
            throw invalid(
                "unknown field '" + field.getKey() + "'; only displayName and preferences change");
      }
    }
    store.updateProfile(userId, displayName, prefs);
    return me(userId);
  }

  private static String displayName(JsonNode value) {
    if (value.isNull()) {
      return null;
    }
    if (!value.isTextual() || value.asText().length() > 100) {
      throw invalid("displayName must be a string of at most 100 characters, or null");
    }
    String name = value.asText().strip();
    return name.isEmpty() ? null : name;
  }

  /** Changes the password and signs out every other session (personal tokens stay). */
  int changePassword(CurrentUser user, AccessToken token, AuthDtos.ChangePasswordRequest request) {
    requireSession(token, "change the password");
    checkPassword(user.id(), request.currentPassword());
    store.setPasswordHash(user.id(), passwords.encode(request.newPassword()), true);
    return store.revokeOtherSessions(user.id(), token.id());
  }

  void deleteAccount(CurrentUser user, AccessToken token, AuthDtos.DeleteAccountRequest request) {
    requireSession(token, "delete the account");
    checkPassword(user.id(), request.password());
    // Their rows go with the account: stop the queries still writing them first.
    queries.stopQueriesOf(user.id());
    store.deleteUser(user.id());
  }

  CreatedToken createToken(CurrentUser user, AccessToken token, AuthDtos.CreateTokenRequest req) {
    requireSession(token, "create tokens");
    List<String> scopes =
        req.scopes() == null ? ALL_SCOPES : req.scopes().stream().distinct().toList();
    for (String scope : scopes) {
      if (!ALL_SCOPES.contains(scope)) {
        throw invalid("unknown scope '" + scope + "'; scopes are read and write");
      }
    }
    if (store.personalTokens(user.id()).size() >= MAX_PERSONAL_TOKENS) {
      throw new ApiException(
          HttpStatus.CONFLICT,
          "too-many-tokens",
          "at most " + MAX_PERSONAL_TOKENS + " personal tokens; delete one first");
    }
    String secret = secret("chp_");
    Instant expiresAt =
        req.expiresInDays() == null
            ? null
            : clock.instant().plus(Duration.ofDays(req.expiresInDays()));
    String name = req.name().strip();
    UUID id = store.insertToken(secret, user.id(), expiresAt, AccessToken.PERSONAL, name, scopes);
    return new CreatedToken(id, name, secret, scopes, store.createdAt(id).orElseThrow(), expiresAt);
  }

  List<TokenView> tokens(UUID userId) {
    return store.personalTokens(userId);
  }

  void deleteToken(CurrentUser user, AccessToken token, UUID tokenId) {
    requireSession(token, "delete tokens");
    if (!store.revoke(user.id(), tokenId, AccessToken.PERSONAL)) {
      throw new NotFoundException("token");
    }
  }

  /** The user's signed-in sessions (devices), the caller's own marked {@code current}. */
  List<AuthDtos.SessionView> sessions(UUID userId, AccessToken current) {
    return store.liveTokens(userId, AccessToken.SESSION).stream()
        .map(t ->
            new AuthDtos.SessionView(
                t.id(),
                t.createdAt(),
                t.expiresAt(),
                t.lastUsedAt(),
                current != null && t.id().equals(current.id())))
        .toList();
  }

  /** Signs one session out (another device, or this one). */
  void deleteSession(CurrentUser user, AccessToken token, UUID sessionId) {
    requireSession(token, "sign sessions out");
    if (!store.revoke(user.id(), sessionId, AccessToken.SESSION)) {
      throw new NotFoundException("session");
    }
  }

  /** Signs out every session but the caller's; returns how many. */
  int deleteOtherSessions(CurrentUser user, AccessToken token) {
    requireSession(token, "sign sessions out");
    return store.revokeOtherSessions(user.id(), token.id());
  }

  /** The user a bearer token belongs to, if the token is valid now. */
  public Optional<CurrentUser> authenticate(String token) {
    return resolve(token).map(Authenticated::user);
  }

  /** The token's user and what the token may do (a read-only token may not send or cancel). */
  public Optional<Authenticated> resolve(String token) {
    if (token == null || token.isBlank() || token.length() > 200) {
      return Optional.empty();
    }
    return store.resolve(token);
  }

  private void checkPassword(UUID userId, String password) {
    String hash = store.passwordHash(userId).orElseThrow(() -> new NotFoundException("user"));
    if (!matches(password, hash)) {
      throw new ApiException(HttpStatus.FORBIDDEN, "wrong-password", "the password is wrong");
    }
  }

  /** A password bcrypt cannot take (over 72 bytes) simply does not match an old bcrypt hash. */
  private boolean matches(String password, String hash) {
    try {
      return passwords.matches(password, hash);
    } catch (IllegalArgumentException tooLongForBcrypt) {
      return false;
    }
  }

  private static void requireSession(AccessToken token, String what) {
    if (token == null || !token.isSession()) {
      throw new ApiException(
          HttpStatus.FORBIDDEN,
          "session-required",
          "personal access tokens cannot " + what + "; sign in with your password");
    }
  }

  private static ApiException invalid(String detail) {
    return new ApiException(HttpStatus.BAD_REQUEST, "validation", detail);
  }

  private TokenResponse issueSession(UUID userId) {
    String token = secret("chs_");
    Instant expiresAt = clock.instant().plus(properties.tokenTtl());
    store.insertToken(token, userId, expiresAt, AccessToken.SESSION, null, ALL_SCOPES);
    return new TokenResponse(token, expiresAt, me(userId));
  }

  private static String secret(String prefix) {
    byte[] bytes = new byte[32];
    RANDOM.nextBytes(bytes);
    return prefix + Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
  }
}
