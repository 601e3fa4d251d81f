package dev.chorus.model.workflow;

import io.temporal.activity.ActivityInterface;
import io.temporal.activity.ActivityMethod;
import java.time.Duration;

/**
 * Streams one agent's answer from its provider into the query's Redis Stream and persists it.
 * Scheduled on the provider's task queue ({@link TaskQueues#provider(String)}).
 */
@ActivityInterface
public interface AgentStreamActivities {
  /**
   * How long Temporal waits for a streaming attempt's heartbeat before retrying it elsewhere. Only
   * the fallback for a lone worker or Redis away: a live peer fails a dead worker's attempts over
   * within about a second. Long enough for a few missed beats on a loaded machine (a heartbeat is a
   * write in Temporal's store, so streams beat every few seconds, not every second).
   */
  Duration HEARTBEAT_TIMEOUT = Duration.ofSeconds(10);

  @ActivityMethod
  AgentOutcome streamResponse(AgentTask task);
}
