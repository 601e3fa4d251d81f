package dev.chorus.model.workflow;

import dev.chorus.model.api.QueryStatus;
import io.temporal.activity.ActivityInterface;
import java.util.UUID;

/** Idempotent state transitions of a query, persisted in PostgreSQL and announced on its stream. */
@ActivityInterface
public interface QueryLifecycleActivities {
  void markRunning(UUID queryId);

  /** Records that an agent failed for good (its activity gave up), and tells the clients. */
  void recordResponseFailure(AgentTask task, String error);

  /**
   * Records that an agent was cancelled before its activity could say so itself (it had not started
   * yet); announces it only if the response was not already final.
   */
  void recordResponseCancelled(AgentTask task);

  void finishQuery(UUID queryId, UUID conversationId, QueryStatus status);
}
