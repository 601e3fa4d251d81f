package dev.chorus.model.workflow;

import io.temporal.activity.ActivityInterface;
import io.temporal.activity.ActivityMethod;

/**
 * Streams one agent's answer from its provider into the query's Redis Stream and persists it.
 * Scheduled on the provider's task queue ({@link TaskQueues#provider(String)}).
 */
@ActivityInterface
public interface AgentStreamActivities {
  @ActivityMethod
  AgentOutcome streamResponse(AgentTask task);
}
