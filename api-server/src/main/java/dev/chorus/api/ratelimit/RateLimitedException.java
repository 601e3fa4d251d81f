package dev.chorus.api.ratelimit;

import dev.chorus.api.common.ApiException;
import java.time.Duration;
import org.springframework.http.HttpStatus;

/** A 429: the caller must wait {@link #retryAfter()} before trying again. */
public class RateLimitedException extends ApiException {
  private final Duration retryAfter;

  public RateLimitedException(String type, String detail, Duration retryAfter) {
    super(HttpStatus.TOO_MANY_REQUESTS, type, detail);
    this.retryAfter = retryAfter;
  }

  public Duration retryAfter() {
    return retryAfter;
  }

  /** Whole seconds for the {@code Retry-After} header, never 0 (0 would invite a hot loop). */
  public long retryAfterSeconds() {
    return Math.max(1, (retryAfter.toMillis() + 999) / 1000);
  }
}
