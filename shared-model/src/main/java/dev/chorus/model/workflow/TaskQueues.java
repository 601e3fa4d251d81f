package dev.chorus.model.workflow;

/**
 * Task queue names. Each provider has its own queue, so its global rate limit is a queue setting.
 */
public final class TaskQueues {
  public static final String QUERIES = "chorus-queries";
  private static final String PROVIDER_PREFIX = "chorus-provider-";

  private TaskQueues() {}

  public static String provider(String provider) {
    return PROVIDER_PREFIX + provider;
  }
}
