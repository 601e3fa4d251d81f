package dev.chorus.worker.liveness;

import io.temporal.client.ActivityCompletionClient;
import io.temporal.client.WorkflowClient;
import io.temporal.failure.ApplicationFailure;
import java.time.Duration;
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

  private final ActivityCompletionClient completions;

  TemporalTakeover(WorkflowClient client) {
    this.completions = client.newActivityCompletionClient();
  }

  @Override
  public void fail(byte[] taskToken, String attempt, String deadWorker) {
    completions.completeExceptionally(
        taskToken,
        ApplicationFailure.newFailureWithCauseAndDelay(
            "worker " + deadWorker + " died while running " + attempt, TYPE, null, RETRY_AFTER));
  }
}
