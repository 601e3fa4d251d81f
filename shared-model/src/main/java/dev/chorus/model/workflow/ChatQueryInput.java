package dev.chorus.model.workflow;

import dev.chorus.model.agent.AgentSpec;
import java.util.List;
import java.util.UUID;

/**
 * What a query workflow needs. The message text itself stays in PostgreSQL: activities load it by
 * {@code messageId}, so history holds ids, not content.
 *
 * @param policy deadline and quorum of this query, or {@code null} to wait for every agent
 */
public record ChatQueryInput(
    UUID queryId,
    UUID conversationId,
    UUID userId,
    UUID messageId,
    List<AgentSpec> agents,
    QueryPolicy policy) {

  /** A query that waits for every agent. */
  public ChatQueryInput(
      UUID queryId, UUID conversationId, UUID userId, UUID messageId, List<AgentSpec> agents) {
    this(queryId, conversationId, userId, messageId, agents, null);
  }

  public static String workflowId(UUID queryId) {
    return "query-" + queryId;
  }
}
