package dev.chorus.worker.liveness;

import io.temporal.api.common.v1.WorkflowExecution;
import io.temporal.api.enums.v1.PendingActivityState;
import io.temporal.api.workflow.v1.PendingActivityInfo;
import io.temporal.api.workflowservice.v1.DescribeWorkflowExecutionRequest;
import io.temporal.client.ActivityCompletionClient;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowExecutionMetadata;
import io.temporal.failure.ApplicationFailure;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

/**
 * Fails a dead worker's attempt through Temporal, as if the attempt had failed itself: the retry
 * policy applies (attempts are counted), but the next attempt starts after {@link #RETRY_AFTER}
 * rather than the policy's backoff — the cause is known and gone.
 */
@Component
class TemporalTakeover implements WorkerLiveness.Takeover {
  /** The failure type a taken-over attempt ends with, visible in the Temporal UI. */
  static final String TYPE = "WorkerDied";

  static final Duration RETRY_AFTER = Duration.ofMillis(10);

  /** The visibility query for the executions that may have a dead worker's attempt. */
  static final String RUNNING = "ExecutionStatus='Running'";

  private static final Logger log = LoggerFactory.getLogger(TemporalTakeover.class);

  private final WorkflowClient client;
  private final ActivityCompletionClient completions;

  TemporalTakeover(WorkflowClient client) {
    this.client = client;
    this.completions = client.newActivityCompletionClient();
  }

  @Override
  public void fail(byte[] taskToken, String attempt, String deadWorker) {
    completions.completeExceptionally(taskToken, failure(deadWorker, attempt));
  }

  /**
   * Looks through the running workflows for activities started by the dead worker's Temporal
   * identity ({@link WorkerIdentity#temporal}) and fails them by id. Only attempts still in {@code
   * STARTED}: one that was failed over already waits for its retry or runs on a live worker, under
   * another identity. Runs once per dead worker, on the peer that claimed it.
   */
  @Override
  public int failUnlisted(String deadWorker) {
    int failed = 0;
    List<WorkflowExecution> running =
        client.listExecutions(RUNNING).map(WorkflowExecutionMetadata::getExecution).toList();
    for (WorkflowExecution execution : running) {
      for (PendingActivityInfo activity : pendingActivities(execution)) {
        if (activity.getState() != PendingActivityState.PENDING_ACTIVITY_STATE_STARTED
            || !WorkerIdentity.isTemporalIdentityOf(activity.getLastWorkerIdentity(), deadWorker)) {
          continue;
        }
        String attempt =
            "%s attempt %d (activity %s of %s)"
                .formatted(
                    activity.getActivityType().getName(),
                    activity.getAttempt(),
                    activity.getActivityId(),
                    execution.getWorkflowId());
        try {
          completions.completeExceptionally(
              execution.getWorkflowId(),
              Optional.of(execution.getRunId()),
              activity.getActivityId(),
              failure(deadWorker, attempt));
          failed++;
        } catch (RuntimeException e) {
          // It ended meanwhile (completed, or timed out by its heartbeat).
          log.info("could not fail over {} of worker {}: {}", attempt, deadWorker, e.toString());
        }
      }
    }
    return failed;
  }

  /** The activities of the execution that Temporal has scheduled or started and not closed. */
  List<PendingActivityInfo> pendingActivities(WorkflowExecution execution) {
    return client
        .getWorkflowServiceStubs()
        .blockingStub()
        .describeWorkflowExecution(
            DescribeWorkflowExecutionRequest.newBuilder()
                .setNamespace(client.getOptions().getNamespace())
                .setExecution(execution)
                .build())
        .getPendingActivitiesList();
  }

  private static ApplicationFailure failure(String deadWorker, String attempt) {
    return ApplicationFailure.newFailureWithCauseAndDelay(
        "worker " + deadWorker + " died while running " + attempt, TYPE, null, RETRY_AFTER);
  }
}
