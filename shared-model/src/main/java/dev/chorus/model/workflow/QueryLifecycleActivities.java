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

  void finishQuery(UUID queryId, UUID conversationId, QueryStatus status);
}
