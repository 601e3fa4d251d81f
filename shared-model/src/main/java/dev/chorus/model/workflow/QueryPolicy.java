package dev.chorus.model.workflow;

/**
 * How a query asks and waits for its agents, chosen per query; every field is optional.
 *
 * @param deadlineSeconds when this many seconds have passed, the agents still answering are
 *     cancelled (they keep their partial text) and the query finishes with what it has
 * @param quorum as soon as this many agents have completed, the others are cancelled and the
 *     answers are ranked
 * @param quorumAfterSeconds after this many seconds, the others are cancelled as soon as at least
 *     one agent has completed
 * @param mode {@value #ANSWER} (the default: every agent answers once) or {@value #DEBATE} (the
 *     agents answer, then revise seeing each other's answers, then one agent writes a synthesis)
 * @param rounds in debate mode, how many rounds ({@value #MIN_ROUNDS}..{@value #MAX_ROUNDS},
 *     default {@value #DEFAULT_ROUNDS}): round 1 is the ordinary answers, the others revisions
 * @param synthesizer in debate mode, the name of the agent whose model writes the synthesis;
 *     default the first agent
 */
public record QueryPolicy(
    Integer deadlineSeconds,
    Integer quorum,
    Integer quorumAfterSeconds,
    String mode,
    Integer rounds,
    String synthesizer) {
  public static final int MIN_DEADLINE_SECONDS = 5;
  public static final int MAX_SECONDS = 3600;

  public static final String ANSWER = "answer";
  public static final String DEBATE = "debate";
  public static final int MIN_ROUNDS = 2;
  public static final int MAX_ROUNDS = 5;
  public static final int DEFAULT_ROUNDS = 2;

  /** A policy of deadline and quorum only (the shape before debate mode existed). */
  public QueryPolicy(Integer deadlineSeconds, Integer quorum, Integer quorumAfterSeconds) {
    this(deadlineSeconds, quorum, quorumAfterSeconds, null, null, null);
  }

  /**
   * A debate of {@code rounds} rounds whose synthesis {@code synthesizer} writes (null: default).
   */
  public static QueryPolicy debate(Integer rounds, String synthesizer) {
    return new QueryPolicy(null, null, null, DEBATE, rounds, synthesizer);
  }

  /** True when the policy asks for nothing: the query waits for every agent, as without one. */
  public boolean asksNothing() {
    return !limitsWaiting() && mode == null && rounds == null && synthesizer == null;
  }

  /** True when a deadline or a quorum may stop the waiting for the (first round's) answers. */
  public boolean limitsWaiting() {
    return deadlineSeconds != null || quorum != null || quorumAfterSeconds != null;
  }

  /** True in debate mode. */
  public boolean debates() {
    return DEBATE.equals(mode);
  }

  /** The number of debate rounds, the default when not given. */
  public int roundCount() {
    return rounds == null ? DEFAULT_ROUNDS : rounds;
  }
}
