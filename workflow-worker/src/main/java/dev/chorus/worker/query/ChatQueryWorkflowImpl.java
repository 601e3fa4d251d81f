package dev.chorus.worker.query;

import dev.chorus.model.agent.AgentSpec;
import dev.chorus.model.agent.Usage;
import dev.chorus.model.api.QueryStatus;
import dev.chorus.model.api.ResponseStatus;
import dev.chorus.model.workflow.AgentOutcome;
import dev.chorus.model.workflow.AgentStreamActivities;
import dev.chorus.model.workflow.AgentTask;
import dev.chorus.model.workflow.ChatQueryInput;
import dev.chorus.model.workflow.ChatQueryResult;
import dev.chorus.model.workflow.ChatQueryWorkflow;
import dev.chorus.model.workflow.ChorusSearchAttributes;
import dev.chorus.model.workflow.QueryLifecycleActivities;
import dev.chorus.model.workflow.TaskQueues;
import io.temporal.activity.ActivityOptions;
import io.temporal.common.RetryOptions;
import io.temporal.failure.ActivityFailure;
import io.temporal.failure.ApplicationFailure;
import io.temporal.failure.TemporalFailure;
import io.temporal.spring.boot.WorkflowImpl;
import io.temporal.workflow.Async;
import io.temporal.workflow.Promise;
import io.temporal.workflow.Workflow;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Asks every agent at once, each as a streaming activity on its provider's task queue, and ends the
 * query as COMPLETED, PARTIAL or FAILED. Deterministic: no I/O here, only activities.
 */
@WorkflowImpl(workers = "queries")
public class ChatQueryWorkflowImpl implements ChatQueryWorkflow {
  static final ActivityOptions LIFECYCLE =
      ActivityOptions.newBuilder()
          .setStartToCloseTimeout(Duration.ofSeconds(30))
          .setRetryOptions(
              RetryOptions.newBuilder()
                  .setInitialInterval(Duration.ofMillis(500))
                  .setMaximumInterval(Duration.ofSeconds(10))
                  .build())
          .build();

  private final QueryLifecycleActivities lifecycle =
      Workflow.newActivityStub(QueryLifecycleActivities.class, LIFECYCLE);

  static ActivityOptions streamOptions(AgentSpec agent) {
    return ActivityOptions.newBuilder()
        .setTaskQueue(TaskQueues.provider(agent.provider()))
        .setSummary(agent.name())
        // A dead worker is noticed by its missing heartbeats within seconds, not at the timeout.
        .setHeartbeatTimeout(Duration.ofSeconds(5))
        .setStartToCloseTimeout(Duration.ofMinutes(10))
        .setScheduleToCloseTimeout(Duration.ofMinutes(30))
        .setRetryOptions(
            RetryOptions.newBuilder()
                .setInitialInterval(Duration.ofMillis(500))
                .setBackoffCoefficient(2)
                .setMaximumInterval(Duration.ofSeconds(30))
                .setMaximumAttempts(5)
                .build())
        .build();
  }

  @Override
  public ChatQueryResult run(ChatQueryInput input) {
    lifecycle.markRunning(input.queryId());
    Workflow.upsertTypedSearchAttributes(
        ChorusSearchAttributes.STATUS.valueSet(QueryStatus.RUNNING.name()));

    List<AgentTask> tasks = new ArrayList<>();
    List<Promise<AgentOutcome>> answers = new ArrayList<>();
    for (AgentSpec agent : input.agents()) {
      var task =
          new AgentTask(
              input.queryId(), input.conversationId(), input.messageId(), agent, input.userId());
      var stub = Workflow.newActivityStub(AgentStreamActivities.class, streamOptions(agent));
      tasks.add(task);
      answers.add(Async.function(stub::streamResponse, task));
    }

    List<AgentOutcome> outcomes = new ArrayList<>();
    for (int i = 0; i < tasks.size(); i++) {
      try {
        outcomes.add(answers.get(i).get());
      } catch (ActivityFailure failure) {
        String error = describe(failure);
        lifecycle.recordResponseFailure(tasks.get(i), error);
        outcomes.add(
            new AgentOutcome(
                tasks.get(i).agent().name(), ResponseStatus.FAILED, 0, Usage.NONE, 0, error));
      }
    }

    long completed = outcomes.stream().filter(o -> o.status() == ResponseStatus.COMPLETED).count();
    QueryStatus status =
        completed == outcomes.size()
            ? QueryStatus.COMPLETED
            : completed == 0 ? QueryStatus.FAILED : QueryStatus.PARTIAL;
    lifecycle.finishQuery(input.queryId(), input.conversationId(), status);
    Workflow.upsertTypedSearchAttributes(ChorusSearchAttributes.STATUS.valueSet(status.name()));
    return new ChatQueryResult(status, outcomes);
  }

  /** The root cause in one line, for the user and the operator. */
  static String describe(ActivityFailure failure) {
    Throwable cause = failure.getCause();
    if (cause instanceof ApplicationFailure app) {
      return app.getType() + ": " + app.getOriginalMessage();
    }
    if (cause instanceof TemporalFailure temporal) {
      return temporal.getClass().getSimpleName() + ": " + temporal.getOriginalMessage();
    }
    return failure.getMessage();
  }
}
