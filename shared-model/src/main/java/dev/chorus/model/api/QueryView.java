package dev.chorus.model.api;

import dev.chorus.model.agent.AgentSpec;
import java.time.Instant;
import java.util.List;
import java.util.UUID;

/** A query: one user message asked of several agents. */
public record QueryView(
    UUID id,
    UUID conversationId,
    UUID messageId,
    QueryStatus status,
    List<AgentSpec> agents,
    List<ResponseView> responses,
    String workflowId,
    Instant createdAt,
    Instant completedAt) {

  public QueryView withResponses(List<ResponseView> newResponses) {
    return new QueryView(
        id,
        conversationId,
        messageId,
        status,
        agents,
        newResponses,
        workflowId,
        createdAt,
        completedAt);
  }

  public QueryView withStatus(QueryStatus newStatus) {
    return new QueryView(
        id,
        conversationId,
        messageId,
        newStatus,
        agents,
        responses,
        workflowId,
        createdAt,
        completedAt);
  }
}
