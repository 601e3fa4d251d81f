package dev.chorus.worker.provider;

/** Receives a provider's stream as it arrives. Called on the activity's thread, in order. */
@FunctionalInterface
public interface StreamSink {
  void onDelta(String text);
}
