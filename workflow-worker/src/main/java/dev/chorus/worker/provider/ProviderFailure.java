package dev.chorus.worker.provider;

import dev.chorus.model.agent.ProviderFailureType;
import io.temporal.failure.ApplicationFailure;
import java.time.Duration;

/**
 * One classified provider failure. {@link #exception()} turns it into the Temporal failure the
 * activity throws: its type is the {@link ProviderFailureType} name, non-retryable types stop the
 * retries at once, and a provider's {@code Retry-After} becomes the next retry delay.
 *
 * @param httpStatus the provider's HTTP status, {@code null} for I/O failures
 * @param retryAfter how long the provider asked us to wait, {@code null} when it did not say
 */
public record ProviderFailure(
    ProviderFailureType type, String message, Integer httpStatus, Duration retryAfter) {
  static final int MAX_MESSAGE = 500;

  public ProviderFailure {
    message = message == null ? type.name() : clip(message.strip());
  }

  public static ProviderFailure of(ProviderFailureType type, String message) {
    return new ProviderFailure(type, message, null, null);
  }

  public ApplicationFailure exception() {
    return exception(null);
  }

  public ApplicationFailure exception(Throwable cause) {
    var builder =
        ApplicationFailure.newBuilder()
            .setType(type.name())
            .setMessage(httpStatus == null ? message : "HTTP " + httpStatus + ": " + message)
            .setNonRetryable(!type.retryable())
            .setCause(cause);
    if (httpStatus != null) {
      builder.setDetails(httpStatus);
    }
    if (type.retryable() && retryAfter != null && !retryAfter.isNegative()) {
      builder.setNextRetryDelay(retryAfter);
    }
    return builder.build();
  }

  private static String clip(String s) {
    return s.length() <= MAX_MESSAGE ? s : s.substring(0, MAX_MESSAGE) + "…";
  }
}
