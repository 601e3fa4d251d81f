package dev.chorus.model.agent;

/**
 * How a provider call failed, classified once at the provider boundary. The name is the Temporal
 * {@code ApplicationFailure} type, so workflows, the Temporal UI and visibility queries all see the
 * same words.
 */
public enum ProviderFailureType {
  /** 429: retried after the provider's {@code Retry-After}. */
  ProviderRateLimited(true),
  /** 5xx, 529 overloaded, connection refused: retried with backoff. */
  ProviderUnavailable(true),
  /** No byte within the read timeout. */
  ProviderTimeout(true),
  /** The stream ended or broke before the provider said it was done. */
  ProviderStreamBroken(true),
  /** 400/413/422: the same request would fail again. */
  ProviderInvalidRequest(false),
  /** 401/403: the key is missing, wrong or lacks permission. */
  ProviderAuthFailed(false),
  /** The provider does not know the model. */
  ProviderUnknownModel(false),
  /** The provider refused the content (safety filter, refusal stop reason). */
  ProviderRefused(false),
  /** Chorus has no key or endpoint for this provider (neither the server nor the user). */
  ProviderNotConfigured(false);

  private final boolean retryable;

  ProviderFailureType(boolean retryable) {
    this.retryable = retryable;
  }

  public boolean retryable() {
    return retryable;
  }
}
