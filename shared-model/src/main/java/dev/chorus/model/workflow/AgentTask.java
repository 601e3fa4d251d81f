package dev.chorus.model.workflow;

import dev.chorus.model.agent.AgentSpec;
import java.util.UUID;

/**
 * One agent's share of a query, as handed to the streaming activity. {@code userId} is how the
 * activity finds the user's own provider key: keys never travel through workflow history.
 *
 * @param handover set when a fallback model takes over an answer its agent's earlier model could
 *     not finish; {@code null} for the agent's own model
 */
public record AgentTask(
    UUID queryId,
    UUID conversationId,
    UUID messageId,
    AgentSpec agent,
    UUID userId,
    Handover handover) {

  public AgentTask(
      UUID queryId, UUID conversationId, UUID messageId, AgentSpec agent, UUID userId) {
    this(queryId, conversationId, messageId, agent, userId, null);
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
