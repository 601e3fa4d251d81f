package dev.chorus.api.auth;

import dev.chorus.api.auth.AuthDtos.TokenResponse;
import dev.chorus.api.common.ApiException;
import dev.chorus.api.common.InvalidFieldsException;
import dev.chorus.api.common.NotFoundException;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Instant;
import java.util.Base64;
import java.util.Optional;
import java.util.UUID;
import org.springframework.http.HttpStatus;
import org.springframework.security.crypto.password.PasswordEncoder;
import org.springframework.stereotype.Service;

@Service
public class AuthService {
  static final int MAX_PASSWORD_BYTES = 72;
  private static final SecureRandom RANDOM = new SecureRandom();
  private final AuthStore store;
  private final PasswordEncoder passwords;
  private final AuthProperties properties;
  private final Clock clock;

  AuthService(AuthStore store, PasswordEncoder passwords, AuthProperties properties) {
    this.store = store;
    this.passwords = passwords;
    this.properties = properties;
    this.clock = Clock.systemUTC();
  }

  TokenResponse register(AuthDtos.RegisterRequest request) {
    if (!hashable(request.password())) {
      throw new InvalidFieldsException(
          "password", "must be at most " + MAX_PASSWORD_BYTES + " bytes in UTF-8");
    }
    UUID id = UUID.randomUUID();
    String email = request.email().trim();
    if (!store.insertUser(id, email, passwords.encode(request.password()), request.displayName())) {
      throw new ApiException(
          HttpStatus.CONFLICT, "email-taken", "an account with this email already exists");
    }
    return issue(id);
  }

  TokenResponse login(AuthDtos.LoginRequest request) {
    var credentials = store.credentials(request.email().trim());
    if (credentials.isEmpty()
        || !hashable(request.password())
        || !passwords.matches(request.password(), credentials.get().passwordHash())) {
      throw new ApiException(
          HttpStatus.UNAUTHORIZED, "invalid-credentials", "email or password is wrong");
    }
    return issue(credentials.get().id());
  }

  /** BCrypt reads at most 72 bytes and refuses longer input (found by the API fuzz run). */
  private static boolean hashable(String password) {
    return password.getBytes(StandardCharsets.UTF_8).length <= MAX_PASSWORD_BYTES;
  }

  void logout(String token) {
    store.revoke(token);
  }

  AuthDtos.UserView me(UUID userId) {
    return store.user(userId).orElseThrow(() -> new NotFoundException("user"));
  }

  /** The user a bearer token belongs to, if the token is valid now. */
  public Optional<CurrentUser> authenticate(String token) {
    if (token == null || token.isBlank() || token.length() > 200) {
      return Optional.empty();
    }
    return store.resolve(token);
  }

  private TokenResponse issue(UUID userId) {
    byte[] bytes = new byte[32];
    RANDOM.nextBytes(bytes);
    String token = "chs_" + Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    Instant expiresAt = clock.instant().plus(properties.tokenTtl());
    store.insertToken(token, userId, expiresAt);
    return new TokenResponse(token, expiresAt, me(userId));
  }
}
