package dev.chorus.worker.query;

import dev.chorus.model.agent.Usage;
import dev.chorus.model.api.QueryStatus;
import dev.chorus.model.api.ResponseStatus;
import dev.chorus.model.workflow.AgentOutcome;
import dev.chorus.model.workflow.AgentStreamActivities;
import dev.chorus.model.workflow.AgentTask;
import dev.chorus.model.workflow.QueryLifecycleActivities;
import dev.chorus.model.workflow.RankingActivities;
import dev.chorus.model.workflow.RankingResult;
import dev.chorus.model.workflow.RankingTask;
import io.temporal.activity.Activity;
import io.temporal.activity.ActivityInfo;
import io.temporal.failure.ApplicationFailure;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Hand-written activity fakes for workflow tests. Both fakes append to one shared {@link CallLog},
 * so a test can check the order of lifecycle and streaming calls across task queues.
 */
final class WorkflowFakes {
  private WorkflowFakes() {}

  /** Every activity call the fakes saw, in the order they were called. */
  static final class CallLog {
    private final List<Call> calls = new CopyOnWriteArrayList<>();

    void add(Call call) {
      calls.add(call);
    }

    List<Call> all() {
      return List.copyOf(calls);
    }

    <T extends Call> List<T> of(Class<T> type) {
      return calls.stream().filter(type::isInstance).map(type::cast).toList();
    }
  }

  sealed interface Call {}

  record MarkRunning(UUID queryId) implements Call {}

  record RecordFailure(AgentTask task, String error) implements Call {}

  record RecordCancelled(AgentTask task) implements Call {}

  record Rank(RankingTask task) implements Call {}

  /** The local ranking found a judge configured and left the ranking to the activity. */
  record RankLeftToJudge(RankingTask task) implements Call {}

  record FinishQuery(UUID queryId, UUID conversationId, QueryStatus status) implements Call {}

  /** One attempt of {@code streamResponse}, with where and how often Temporal ran it. */
  record StreamCall(String agent, int attempt, String taskQueue, AgentTask task) implements Call {}

  static final class FakeLifecycle implements QueryLifecycleActivities {
    private final CallLog log;

    FakeLifecycle(CallLog log) {
      this.log = log;
    }

    @Override
    public void markRunning(UUID queryId) {
      log.add(new MarkRunning(queryId));
    }

    @Override
    public void recordResponseFailure(AgentTask task, String error) {
      log.add(new RecordFailure(task, error));
    }

    @Override
    public void recordResponseCancelled(AgentTask task) {
      log.add(new RecordCancelled(task));
    }

    @Override
    public void finishQuery(UUID queryId, UUID conversationId, QueryStatus status) {
      log.add(new FinishQuery(queryId, conversationId, status));
    }
  }

  static final class FakeRanking implements RankingActivities {
    private final CallLog log;

    FakeRanking(CallLog log) {
      this.log = log;
    }

    /** Whether this worker has a judge model: then only the activity ranks. */
    volatile boolean judges;

    @Override
    public RankingResult rankAnswers(RankingTask task) {
      log.add(new Rank(task));
      return new RankingResult(task.agents(), judges ? "judge" : "builtin");
    }

    @Override
    public RankingResult rankWithoutJudge(RankingTask task) {
      if (judges) {
        log.add(new RankLeftToJudge(task));
        return null;
      }
      log.add(new Rank(task));
      return new RankingResult(task.agents(), "builtin");
    }
  }

  /** What an agent's activity does on a given attempt: return an outcome or throw. */
  @FunctionalInterface
  interface Behavior {
    AgentOutcome run(AgentTask task, int attempt);
  }

  /**
   * Streams until cancelled, the way the real activity notices it: its heartbeat throws. Once the
   * cancellation arrives it reports it by rethrowing, as the real activity does after saving.
   */
  static AgentOutcome streamsUntilCancelled(AgentTask task, int attempt) {
    while (true) {
      Activity.getExecutionContext().heartbeat(attempt);
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw Activity.wrap(e);
      }
    }
  }

  /** Fails for good on every attempt, the way a provider reports an unknown model. */
  static AgentOutcome unknownModel(AgentTask task, int attempt) {
    throw ApplicationFailure.newNonRetryableFailure(
        "model '" + task.agent().model() + "' does not exist", "ProviderUnknownModel");
  }

  /** Fails retryably on every attempt, so Temporal's retries run out. */
  static AgentOutcome unavailable(AgentTask task, int attempt) {
    throw ApplicationFailure.newFailure(
        "503 from " + task.agent().provider(), "ProviderUnavailable");
  }

  /**
   * Rate limited with a {@code Retry-After} of ten minutes: the agent is slow without an activity
   * running. The test server skips time only while no activity is scheduled or running, so this is
   * how a deadline or quorum timer fires without real waiting.
   */
  static AgentOutcome rateLimitedForTenMinutes(AgentTask task, int attempt) {
    throw ApplicationFailure.newBuilder()
        .setType("ProviderRateLimited")
        .setMessage("429 from " + task.agent().provider())
        .setNextRetryDelay(java.time.Duration.ofMinutes(10))
        .build();
  }

  /** Answers with a fixed text; the default for agents without a scripted behavior. */
  static AgentOutcome completed(AgentTask task) {
    String text = "answer of " + task.agent().name();
    return new AgentOutcome(
        task.agent().name(), ResponseStatus.COMPLETED, text.length(), new Usage(3, 4), 7, null);
  }

  static final class FakeAgentStream implements AgentStreamActivities {
    private final CallLog log;
    private final Map<String, Behavior> behaviors = new ConcurrentHashMap<>();
    private final Map<String, Behavior> modelBehaviors = new ConcurrentHashMap<>();

    FakeAgentStream(CallLog log) {
      this.log = log;
    }

    /** Scripts the agent named {@code agent}; others complete on the first attempt. */
    FakeAgentStream on(String agent, Behavior behavior) {
      behaviors.put(agent, behavior);
      return this;
    }

    /**
     * Scripts every call that runs {@code model}, whichever agent it answers for (a fallback runs
     * under its agent's name); takes precedence over {@link #on}.
     */
    FakeAgentStream onModel(String model, Behavior behavior) {
      modelBehaviors.put(model, behavior);
      return this;
    }

    @Override
    public AgentOutcome streamResponse(AgentTask task) {
      ActivityInfo info = Activity.getExecutionContext().getInfo();
      log.add(
          new StreamCall(
              task.agent().name(), info.getAttempt(), info.getActivityTaskQueue(), task));
      Behavior behavior = modelBehaviors.get(task.agent().model());
      if (behavior == null) {
        behavior = behaviors.getOrDefault(task.agent().name(), (t, attempt) -> completed(t));
      }
      return behavior.run(task, info.getAttempt());
    }
  }
}
