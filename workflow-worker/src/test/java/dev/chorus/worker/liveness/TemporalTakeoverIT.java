package dev.chorus.worker.liveness;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.chorus.worker.support.WorkerIntegrationTest;
import io.temporal.activity.Activity;
import io.temporal.activity.ActivityInterface;
import io.temporal.activity.ActivityOptions;
import io.temporal.api.enums.v1.PendingActivityState;
import io.temporal.api.workflow.v1.PendingActivityInfo;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.WorkflowStub;
import io.temporal.common.RetryOptions;
import io.temporal.worker.WorkerFactory;
import io.temporal.workflow.Workflow;
import io.temporal.workflow.WorkflowInterface;
import io.temporal.workflow.WorkflowMethod;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

/**
 * Against the real Temporal dev server (namespace {@code chorus-test}): a worker that took an
 * activity task and died before listing it is found through Temporal by its identity, and only its
 * attempts are failed over. The activity's heartbeat timeout is a minute, so a retry within the
 * test's wait can only come from the takeover.
 */
@WorkerIntegrationTest
class TemporalTakeoverIT {
  @ActivityInterface
  public interface Hang {
    String run(String key);
  }

  @WorkflowInterface
  public interface OneHang {
    @WorkflowMethod
    String run(String key);
  }

  public static class OneHangImpl implements OneHang {
    private final Hang hang =
        Workflow.newActivityStub(
            Hang.class,
            ActivityOptions.newBuilder()
                .setStartToCloseTimeout(Duration.ofMinutes(5))
                .setHeartbeatTimeout(Duration.ofMinutes(1))
                .setRetryOptions(
                    RetryOptions.newBuilder().setInitialInterval(Duration.ofMillis(10)).build())
                .build());

    @Override
    public String run(String key) {
      return hang.run(key);
    }
  }

  /** Attempt 1 hangs (its worker is "dead") until released; later attempts answer at once. */
  static final Map<String, CountDownLatch> STARTED = new ConcurrentHashMap<>();

  static final Map<String, CountDownLatch> RELEASE = new ConcurrentHashMap<>();

  public static class HangImpl implements Hang {
    @Override
    public String run(String key) {
      int attempt = Activity.getExecutionContext().getInfo().getAttempt();
      if (attempt == 1) {
        STARTED.get(key).countDown();
        try {
          RELEASE.get(key).await(5, TimeUnit.MINUTES);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        return "attempt 1 of " + key;
      }
      return "attempt " + attempt + " of " + key;
    }
  }

  @Autowired WorkflowClient client;
  @Autowired TemporalTakeover takeover;
  @Autowired WorkerIdentity identity;

  private final List<WorkerFactory> factories = new ArrayList<>();

  @AfterEach
  void tearDown() {
    RELEASE.values().forEach(CountDownLatch::countDown);
    factories.forEach(f -> f.shutdownNow());
  }

  /** A worker polling {@code queue} under the Temporal identity of liveness id {@code id}. */
  private void startWorker(String id, String queue) {
    var identified =
        WorkflowClient.newInstance(
            client.getWorkflowServiceStubs(),
            client.getOptions().toBuilder().setIdentity(WorkerIdentity.temporal(id)).build());
    var factory = WorkerFactory.newInstance(identified);
    var worker = factory.newWorker(queue);
    worker.registerWorkflowImplementationTypes(OneHangImpl.class);
    worker.registerActivitiesImplementations(new HangImpl());
    factory.start();
    factories.add(factory);
  }

  private WorkflowStub startHanging(String key, String queue) throws InterruptedException {
    STARTED.put(key, new CountDownLatch(1));
    RELEASE.put(key, new CountDownLatch(1));
    var stub =
        client.newUntypedWorkflowStub(
            "OneHang", WorkflowOptions.newBuilder().setTaskQueue(queue).setWorkflowId(key).build());
    stub.start(key);
    assertThat(STARTED.get(key).await(60, TimeUnit.SECONDS))
        .as("attempt 1 of %s started", key)
        .isTrue();
    return stub;
  }

  private PendingActivityInfo pending(WorkflowStub stub) {
    return takeover.pendingActivities(stub.getExecution()).getFirst();
  }

  @Test
  void theWorkerPollsTemporalUnderItsLivenessId() {
    assertThat(client.getOptions().getIdentity()).isEqualTo(WorkerIdentity.temporal(identity.id()));
    assertThat(
            WorkerIdentity.isTemporalIdentityOf(client.getOptions().getIdentity(), identity.id()))
        .isTrue();
  }

  @Test
  void theAttemptsADeadWorkerStartedButNeverListedAreFailedOverAndNoOthers() throws Exception {
    String dead = "dead-" + UUID.randomUUID();
    String alive = "alive-" + UUID.randomUUID();
    String deadQueue = "takeover-it-" + UUID.randomUUID();
    String aliveQueue = "takeover-it-" + UUID.randomUUID();
    startWorker(dead, deadQueue);
    startWorker(alive, aliveQueue);
    var ofDead = startHanging("takeover-dead-" + UUID.randomUUID(), deadQueue);
    var ofAlive = startHanging("takeover-alive-" + UUID.randomUUID(), aliveQueue);
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() ->
            pending(ofDead).getState() == PendingActivityState.PENDING_ACTIVITY_STATE_STARTED
                && pending(ofAlive).getState()
                    == PendingActivityState.PENDING_ACTIVITY_STATE_STARTED);
    assertThat(pending(ofDead).getLastWorkerIdentity()).isEqualTo(WorkerIdentity.temporal(dead));

    assertThat(takeover.failUnlisted(dead)).isEqualTo(1);

    // Retried at once (the retry runs on the same test worker, which answers attempt 2).
    assertThat(ofDead.getResult(30, TimeUnit.SECONDS, String.class))
        .startsWith("attempt 2 of takeover-dead-");
    PendingActivityInfo untouched = pending(ofAlive);
    assertThat(untouched.getAttempt()).isEqualTo(1);
    assertThat(untouched.getState()).isEqualTo(PendingActivityState.PENDING_ACTIVITY_STATE_STARTED);
    assertThat(takeover.failUnlisted(dead)).isZero();
  }
}
