package dev.chorus.model.workflow;

import dev.chorus.model.agent.AgentSpec;
import java.util.List;
import java.util.UUID;

/**
 * One agent's share of a query, as handed to the streaming activity. {@code userId} is how the
 * activity finds the user's own provider key: keys never travel through workflow history.
 *
 * @param handover set when a fallback model takes over an answer its agent's earlier model could
 *     not finish; {@code null} for the agent's own model
 * @param debate set for a debate's revision rounds and its synthesis: which earlier answers the
 *     prompt shows (by response name; the texts are read from PostgreSQL inside the activity);
 *     {@code null} for an ordinary answer
 */
public record AgentTask(
    UUID queryId,
    UUID conversationId,
    UUID messageId,
    AgentSpec agent,
    UUID userId,
    Handover handover,
    Debate debate) {

  public AgentTask(
      UUID queryId,
      UUID conversationId,
      UUID messageId,
      AgentSpec agent,
      UUID userId,
      Handover handover) {
    this(queryId, conversationId, messageId, agent, userId, handover, null);
  }

  public AgentTask(
      UUID queryId, UUID conversationId, UUID messageId, AgentSpec agent, UUID userId) {
    this(queryId, conversationId, messageId, agent, userId, null, null);
  }

  /**
   * A step of a debate after its first round.
   *
   * @param round the round this answer belongs to (2..), or for the synthesis the last round
   * @param speaker whose earlier turns of the conversation the prompt includes: the agent's own
   *     name (not its round name), or {@link DebateNames#SYNTHESIS}
   * @param own the response name of this agent's answer in the previous round; {@code null} for the
   *     synthesis
   * @param answers the response names of the answers to show, in agent order
   * @param synthesis true for the synthesis, false for a revision round
   */
  public record Debate(
      int round, String speaker, String own, List<String> answers, boolean synthesis) {}

  /** True for a debate's revision or synthesis (see {@link Debate}). */
  public boolean debates() {
    return debate != null;
  }

  /**
   * The same task answered by {@code newAgent} under {@code newHandover}, in the same debate step.
   */
  public AgentTask handedOver(AgentSpec newAgent, Handover newHandover) {
    return new AgentTask(queryId, conversationId, messageId, newAgent, userId, newHandover, debate);
  }

  /**
   * A fallback model continuing an answer from its checkpoint. Its Temporal attempts start at 1
   * again, so its attempts are numbered after the earlier models' ({@code attemptOffset} + the
   * Temporal attempt): events of two models never share an attempt number.
   *
   * @param reason why the earlier model was left, for {@code response_retrying}
   */
  public record Handover(int attemptOffset, String reason) {}

  /** True when this task continues an answer an earlier model left (see {@link Handover}). */
  public boolean handsOver() {
    return handover != null;
  }

  /** The attempt number events and rows carry for the given Temporal attempt of this task. */
  public int attemptNumber(int temporalAttempt) {
    return handover == null ? temporalAttempt : handover.attemptOffset() + temporalAttempt;
  }
}
