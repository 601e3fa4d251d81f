package dev.chorus.model.workflow;

/**
 * The response names of a debate. Responses are keyed by (query, agent), so each revision round of
 * an agent answers under its own name, {@code "<agent> · round <r>"}, and the synthesis under
 * {@value #SYNTHESIS}; round 1 keeps the agent's own name, as in an ordinary query.
 */
public final class DebateNames {
  public static final String SYNTHESIS = "synthesis";
  static final String ROUND = " · round ";

  private DebateNames() {}

  /** The response name of {@code agent}'s answer in {@code round} (1-based). */
  public static String round(String agent, int round) {
    return round <= 1 ? agent : agent + ROUND + round;
  }

  /** The agent a response name belongs to: {@code name} without its round suffix. */
  public static String agentOf(String name) {
    int at = name.lastIndexOf(ROUND);
    if (at < 0) {
      return name;
    }
    String suffix = name.substring(at + ROUND.length());
    return !suffix.isEmpty() && suffix.chars().allMatch(Character::isDigit)
        ? name.substring(0, at)
        : name;
  }

  /** True when {@code name} would be taken for a debate's response name by {@link #agentOf}. */
  public static boolean reserved(String name) {
    return SYNTHESIS.equals(name) || !agentOf(name).equals(name);
  }
}
