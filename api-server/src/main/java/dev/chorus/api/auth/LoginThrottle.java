package dev.chorus.api.auth;

import dev.chorus.api.ratelimit.RateLimitProperties;
import dev.chorus.api.ratelimit.RateLimitedException;
import dev.chorus.api.ratelimit.RateLimiter;
import java.util.HexFormat;
import java.util.Locale;
import org.springframework.stereotype.Component;

/**
 * Brute-force protection for login: failed attempts are counted in Redis per email and per client
 * address (shared by every api-server). Once over the limit, logins for that email (or from that
 * address) get 429 with Retry-After until the window ends, even with the right password. Emails are
 * hashed in the key so that Redis holds no address book.
 */
@Component
class LoginThrottle {
  private static final String BY_EMAIL = "login-email";
  private static final String BY_ADDRESS = "login-addr";

  private final RateLimiter limiter;
  private final RateLimitProperties properties;

  LoginThrottle(RateLimiter limiter, RateLimitProperties properties) {
    this.limiter = limiter;
    this.properties = properties;
  }

  void check(String email, String address) {
    over(BY_EMAIL, subject(email), properties.loginFailures(), 0);
    over(BY_ADDRESS, address, properties.loginFailuresPerAddress(), 0);
  }

  void failed(String email, String address) {
    over(BY_EMAIL, subject(email), properties.loginFailures(), 1);
    over(BY_ADDRESS, address, properties.loginFailuresPerAddress(), 1);
  }

  void succeeded(String email) {
    limiter.reset(BY_EMAIL, subject(email), properties.loginWindow());
  }

  /** Adds {@code amount} failures and throws when the count has reached the limit. */
  private void over(String bucket, String subject, int limit, long amount) {
    if (limit <= 0 || subject == null) {
      return;
    }
    var window = limiter.hit(bucket, subject, properties.loginWindow(), amount);
    // The failure that reaches the limit is still answered 401; the next attempt is refused.
    if (amount == 0 && window.count() >= limit) {
      throw new RateLimitedException(
          "login-throttled", "too many failed logins; try again later", window.remaining());
    }
  }

  private static String subject(String email) {
    return HexFormat.of()
        .formatHex(AuthStore.hash(email.toLowerCase(Locale.ROOT)))
        .substring(0, 32);
  }
}
