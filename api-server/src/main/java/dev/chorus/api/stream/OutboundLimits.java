package dev.chorus.api.stream;

/**
 * How much may wait for one slow client before it is cut off.
 *
 * @param maxEvents events and frames queued
 * @param maxChars characters of JSON queued (about the bytes, as events are mostly ASCII)
 */
public record OutboundLimits(int maxEvents, long maxChars) {
  public OutboundLimits {
    if (maxEvents < 1 || maxChars < 1) {
      throw new IllegalArgumentException("outbound limits must be positive");
    }
  }

  /** What a subscriber gets until the hub applies the configured limits. */
  public static final OutboundLimits DEFAULT = new OutboundLimits(10_000, 4L * 1024 * 1024);
}
