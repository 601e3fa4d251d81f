package dev.chorus.model.workflow;

/**
 * How long a query waits for its agents, chosen per query; every field is optional.
 *
 * @param deadlineSeconds when this many seconds have passed, the agents still answering are
 *     cancelled (they keep their partial text) and the query finishes with what it has
 * @param quorum as soon as this many agents have completed, the others are cancelled and the
 *     answers are ranked
 * @param quorumAfterSeconds after this many seconds, the others are cancelled as soon as at least
 *     one agent has completed
 */
public record QueryPolicy(Integer deadlineSeconds, Integer quorum, Integer quorumAfterSeconds) {
  public static final int MIN_DEADLINE_SECONDS = 5;
  public static final int MAX_SECONDS = 3600;

  /** True when the policy asks for nothing: the query waits for every agent, as without one. */
  public boolean asksNothing() {
    return deadlineSeconds == null && quorum == null && quorumAfterSeconds == null;
  }
}
