package dev.chorus.model.workflow;

import io.temporal.api.enums.v1.NamespaceState;
import io.temporal.api.workflowservice.v1.DescribeNamespaceRequest;
import io.temporal.client.WorkflowClient;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * Whether Temporal serves this process's namespace: one DescribeNamespace call with a short
 * deadline, so a health probe never hangs on a dead server. Both processes' health indicators use
 * it (shared-model stays free of Spring; they adapt the result).
 */
public final class TemporalProbe {
  /** What the probe saw; {@code detail} is the namespace state or the error. */
  public record Result(boolean up, String namespace, String detail) {}

  private TemporalProbe() {}

  public static Result check(WorkflowClient client, Duration timeout) {
    String namespace = client.getOptions().getNamespace();
    try {
      var response =
          client
              .getWorkflowServiceStubs()
              .blockingStub()
              .withDeadlineAfter(timeout.toMillis(), TimeUnit.MILLISECONDS)
              .describeNamespace(
                  DescribeNamespaceRequest.newBuilder().setNamespace(namespace).build());
      NamespaceState state = response.getNamespaceInfo().getState();
      return new Result(
          state == NamespaceState.NAMESPACE_STATE_REGISTERED, namespace, state.name());
    } catch (RuntimeException e) {
      // gRPC StatusRuntimeException: UNAVAILABLE, DEADLINE_EXCEEDED, NOT_FOUND...
      return new Result(false, namespace, e.getClass().getSimpleName() + ": " + e.getMessage());
    }
  }
}
