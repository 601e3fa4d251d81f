package dev.chorus.worker.provider;

import dev.chorus.model.agent.ProviderKind;
import java.util.List;
import java.util.Optional;

/**
 * A streaming chat provider. Implementations classify every failure at this boundary by throwing
 * {@link ProviderFailure#exception()} (retryable or not), and never retry on their own: retries
 * belong to Temporal. They never log keys, request headers or bodies.
 */
public interface ChatProvider {
  /** The provider id agents name, e.g. {@code mock}, {@code openai} or a named endpoint. */
  String id();

  ProviderKind kind();

  /** The base URL and key the server owns; empty when the server holds none. */
  Optional<Endpoint> serverEndpoint();

  /** The base URL a user's own key is sent to when the user gives no base URL. */
  String defaultBaseUrl();

  /**
   * Streams the answer to {@code sink}, delta by delta, in order, on the calling thread.
   *
   * @throws InterruptedException when the activity is cancelled or the worker shuts down
   */
  StreamEnd stream(
      Endpoint endpoint, ChatRequest request, StreamSink sink, Cancellation cancellation)
      throws InterruptedException;

  /** Whether {@link ChatRequest#prefill()} is honoured (the answer continues a given text). */
  default boolean supportsPrefill() {
    return false;
  }

  /** The provider's model list, from its list endpoint. */
  List<ModelInfo> listModels(Endpoint endpoint) throws InterruptedException;
}
