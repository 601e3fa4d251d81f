package dev.chorus.worker.provider;

import dev.chorus.model.agent.Usage;

/**
 * A streaming chat provider. Implementations classify failures at this boundary (retryable or not)
 * and never retry on their own: retries belong to Temporal.
 */
public interface ChatProvider {
  /** The provider id agents name, e.g. {@code mock} or {@code openai}. */
  String id();

  /**
   * Streams the answer to {@code sink} and returns the usage once the stream ends normally.
   *
   * @throws InterruptedException when the activity is cancelled or the worker shuts down
   */
  Usage stream(ChatRequest request, StreamSink sink) throws InterruptedException;
}
