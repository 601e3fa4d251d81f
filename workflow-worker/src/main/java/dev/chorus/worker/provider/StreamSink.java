package dev.chorus.worker.provider;

/**
 * Receives a provider's answer as it arrives: called on the activity's thread, in order, with the
 * exact text the provider sent (never empty).
 */
@FunctionalInterface
public interface StreamSink {
  void onDelta(String text);
}
