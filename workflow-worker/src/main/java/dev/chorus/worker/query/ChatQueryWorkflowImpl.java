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
import dev.chorus.model.workflow.RankingActivities;
import dev.chorus.model.workflow.RankingTask;
import dev.chorus.model.workflow.TaskQueues;
import io.temporal.activity.ActivityCancellationType;
import io.temporal.activity.ActivityOptions;
import io.temporal.common.RetryOptions;
import io.temporal.failure.ActivityFailure;
import io.temporal.failure.ApplicationFailure;
import io.temporal.failure.CanceledFailure;
import io.temporal.failure.TemporalFailure;
import io.temporal.spring.boot.WorkflowImpl;
import io.temporal.workflow.Async;
import io.temporal.workflow.CancellationScope;
import io.temporal.workflow.Promise;
import io.temporal.workflow.Workflow;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

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

  static final ActivityOptions RANKING =
      ActivityOptions.newBuilder()
          .setStartToCloseTimeout(Duration.ofMinutes(3))
          // Heartbeats every second while a judge model runs: a dead worker is noticed quickly.
          .setHeartbeatTimeout(Duration.ofSeconds(15))
          .setSummary("summarize and rank")
          .setRetryOptions(
              RetryOptions.newBuilder()
                  .setInitialInterval(Duration.ofSeconds(1))
                  .setMaximumInterval(Duration.ofSeconds(30))
                  .setMaximumAttempts(5)
                  .build())
          .build();

  private final QueryLifecycleActivities lifecycle =
      Workflow.newActivityStub(QueryLifecycleActivities.class, LIFECYCLE);

  private final RankingActivities ranking =
      Workflow.newActivityStub(RankingActivities.class, RANKING);

  /** Each agent's activity runs in its own scope, so one agent can be cancelled alone. */
  private final Map<String, CancellationScope> scopes = new HashMap<>();

  private final Set<String> cancelRequested = new HashSet<>();
  private boolean cancelAll;

  static ActivityOptions streamOptions(AgentSpec agent) {
    return ActivityOptions.newBuilder()
        .setTaskQueue(TaskQueues.provider(agent.provider()))
        .setSummary(agent.name())
        // A dead worker is noticed by its missing heartbeats within seconds, not at the timeout.
        .setHeartbeatTimeout(Duration.ofSeconds(5))
        .setStartToCloseTimeout(Duration.ofMinutes(10))
        // A cancelled agent gets to save what it streamed before the workflow moves on.
        .setCancellationType(ActivityCancellationType.WAIT_CANCELLATION_COMPLETED)
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
      CancellationScope scope =
          Workflow.newCancellationScope(
              () -> answers.add(Async.function(stub::streamResponse, task)));
      scopes.put(agent.name(), scope);
      scope.run();
      if (cancelAll || cancelRequested.contains(agent.name())) {
        scope.cancel(); // the signal came before this agent started
      }
    }

    List<AgentOutcome> outcomes = new ArrayList<>();
    for (int i = 0; i < tasks.size(); i++) {
      AgentTask task = tasks.get(i);
      try {
        outcomes.add(answers.get(i).get());
      } catch (ActivityFailure | CanceledFailure failure) {
        if (failure instanceof CanceledFailure || failure.getCause() instanceof CanceledFailure) {
          detached(() -> lifecycle.recordResponseCancelled(task));
          outcomes.add(
              new AgentOutcome(
                  task.agent().name(), ResponseStatus.CANCELLED, 0, Usage.NONE, 0, "cancelled"));
          continue;
        }
        String error = describe((ActivityFailure) failure);
        detached(() -> lifecycle.recordResponseFailure(task, error));
        outcomes.add(
            new AgentOutcome(task.agent().name(), ResponseStatus.FAILED, 0, Usage.NONE, 0, error));
      }
    }

    // An operator may cancel the workflow itself (Temporal UI/CLI): that cancels the whole query.
    boolean cancelled = cancelAll || CancellationScope.current().isCancelRequested();
    QueryStatus status = status(outcomes, cancelled);
    rank(input, outcomes);
    detached(() -> lifecycle.finishQuery(input.queryId(), input.conversationId(), status));
    Workflow.upsertTypedSearchAttributes(ChorusSearchAttributes.STATUS.valueSet(status.name()));
    return new ChatQueryResult(status, outcomes);
  }

  /**
   * Summarizes and ranks the completed answers (before {@code query_completed}, the stream's last
   * event). A ranking that fails does not fail the query: the answers are the result.
   */
  private void rank(ChatQueryInput input, List<AgentOutcome> outcomes) {
    List<String> done =
        outcomes.stream()
            .filter(o -> o.status() == ResponseStatus.COMPLETED)
            .map(AgentOutcome::agent)
            .toList();
    if (done.isEmpty()
        || Workflow.getVersion("rank-answers", Workflow.DEFAULT_VERSION, 1)
            == Workflow.DEFAULT_VERSION) {
      return;
    }
    try {
      detached(() ->
          ranking.rankAnswers(
              new RankingTask(input.queryId(), input.conversationId(), input.userId(), done)));
    } catch (ActivityFailure failed) {
      Workflow.getLogger(ChatQueryWorkflowImpl.class)
          .warn("ranking of query {} failed: {}", input.queryId(), describe(failed));
    }
  }

  /** Bookkeeping must finish even when the workflow itself was cancelled. */
  private static void detached(Runnable bookkeeping) {
    Workflow.newDetachedCancellationScope(bookkeeping).run();
  }

  @Override
  public void cancel(String agent) {
    if (agent == null || agent.isBlank()) {
      cancelAll = true;
      scopes.values().forEach(CancellationScope::cancel);
      return;
    }
    cancelRequested.add(agent);
    CancellationScope scope = scopes.get(agent);
    if (scope != null) {
      scope.cancel();
    }
  }

  /**
   * COMPLETED when every agent that was not cancelled answered; CANCELLED when the query was
   * cancelled before all answered (or every agent was); FAILED when none answered; else PARTIAL.
   */
  static QueryStatus status(List<AgentOutcome> outcomes, boolean cancelAll) {
    long completed = outcomes.stream().filter(o -> o.status() == ResponseStatus.COMPLETED).count();
    long cancelled = outcomes.stream().filter(o -> o.status() == ResponseStatus.CANCELLED).count();
    if (completed == outcomes.size()) {
      return QueryStatus.COMPLETED;
    }
    if (cancelAll || cancelled == outcomes.size()) {
      return QueryStatus.CANCELLED;
    }
    if (completed == 0) {
      return QueryStatus.FAILED;
    }
    return completed + cancelled == outcomes.size() ? QueryStatus.COMPLETED : QueryStatus.PARTIAL;
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
