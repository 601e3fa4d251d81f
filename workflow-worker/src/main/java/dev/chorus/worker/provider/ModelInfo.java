package dev.chorus.worker.provider;

/**
 * One entry of a provider's model list; the limits are {@code null} when the provider omits them.
 */
public record ModelInfo(
    String id, String displayName, Integer contextWindow, Integer maxOutputTokens) {

  public static ModelInfo of(String id) {
    return new ModelInfo(id, null, null, null);
  }
}
