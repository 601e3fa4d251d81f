package dev.chorus.model.agent;

/** Token usage of one response, as reported by the provider (or estimated by the mock). */
public record Usage(long inputTokens, long outputTokens) {
  public static final Usage NONE = new Usage(0, 0);
}
