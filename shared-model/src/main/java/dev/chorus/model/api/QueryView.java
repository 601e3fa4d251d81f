package dev.chorus.model.api;

import dev.chorus.model.agent.AgentSpec;
import java.time.Instant;
import java.util.List;
import java.util.UUID;

/**
 * A query: one user message asked of several agents. {@code summaries} and {@code ranking} are
 * empty until the answers are in and ranked; both are best first.
 */
public record QueryView(
    UUID id,
    UUID conversationId,
    UUID messageId,
    QueryStatus status,
    List<AgentSpec> agents,
    List<ResponseView> responses,
    List<AnswerSummary> summaries,
    List<RankEntry> ranking,
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
        summaries,
        ranking,
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
        summaries,
        ranking,
        workflowId,
        createdAt,
        completedAt);
  }

  public QueryView withRanking(List<AnswerSummary> newSummaries, List<RankEntry> newRanking) {
    return new QueryView(
        id,
        conversationId,
        messageId,
        status,
        agents,
        responses,
        newSummaries,
        newRanking,
        workflowId,
        createdAt,
        completedAt);
  }
}
