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
import dev.chorus.model.workflow.DebateNames;
import dev.chorus.model.workflow.QueryLifecycleActivities;
import dev.chorus.model.workflow.QueryPolicy;
import dev.chorus.model.workflow.RankingActivities;
import dev.chorus.model.workflow.RankingTask;
import dev.chorus.model.workflow.TaskQueues;
import io.temporal.activity.ActivityCancellationType;
import io.temporal.activity.ActivityOptions;
import io.temporal.activity.LocalActivityOptions;
import io.temporal.common.RetryOptions;
import io.temporal.failure.ActivityFailure;
import io.temporal.failure.ApplicationFailure;
import io.temporal.failure.CanceledFailure;
import io.temporal.failure.TemporalFailure;
import io.temporal.spring.boot.WorkflowImpl;
import io.temporal.workflow.Async;
import io.temporal.workflow.CancellationScope;
import io.temporal.workflow.Promise;
import io.temporal.workflow.TimerOptions;
import io.temporal.workflow.Workflow;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Asks every agent at once, each as a streaming activity on its provider's task queue, and ends the
 * query as COMPLETED, PARTIAL or FAILED. An agent whose model fails for good hands its answer to
 * its next fallback model; the query's policy may cut agents off at a deadline or once a quorum has
 * answered. In debate mode (see {@link #debate}) revision rounds and a synthesis follow, each an
 * ordinary streaming activity. Deterministic: no I/O here, only activities and timers.
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

  /**
   * The same bookkeeping as a local activity: it runs inside the workflow task, so it costs the
   * server no activity task, dispatch or extra workflow task (see {@link #LEAN_CHANGE}).
   */
  static final LocalActivityOptions LOCAL_LIFECYCLE =
      LocalActivityOptions.newBuilder()
          .setStartToCloseTimeout(LIFECYCLE.getStartToCloseTimeout())
          .setRetryOptions(LIFECYCLE.getRetryOptions())
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

  /**
   * Built-in ranking as a local activity ({@link #LOCAL_RANKING_CHANGE}): it takes milliseconds, so
   * the short timeout; attempts are bounded like the activity's, since a ranking that keeps failing
   * must not hold the query open.
   */
  static final LocalActivityOptions LOCAL_RANKING =
      LocalActivityOptions.newBuilder()
          .setStartToCloseTimeout(LIFECYCLE.getStartToCloseTimeout())
          .setRetryOptions(RANKING.getRetryOptions())
          .build();

  private final QueryLifecycleActivities lifecycle =
      Workflow.newActivityStub(QueryLifecycleActivities.class, LIFECYCLE);

  private final QueryLifecycleActivities localLifecycle =
      Workflow.newLocalActivityStub(QueryLifecycleActivities.class, LOCAL_LIFECYCLE);

  private final RankingActivities ranking =
      Workflow.newActivityStub(RankingActivities.class, RANKING);

  private final RankingActivities localRanking =
      Workflow.newLocalActivityStub(RankingActivities.class, LOCAL_RANKING);

  /**
   * Whether this run takes the lean path ({@link #LEAN_CHANGE}): decided once, at its first
   * workflow task, so a run started by an older worker keeps its commands to the end.
   */
  private boolean lean;

  /**
   * Each agent's activity runs in its own scope, so one agent can be cancelled alone; keyed by
   * response name (in a debate, one per agent and round, and the synthesis).
   */
  private final Map<String, CancellationScope> scopes = new HashMap<>();

  /** In a debate: per agent, the response name of the round it is answering now. */
  private final Map<String, String> currentRound = new HashMap<>();

  private final Set<String> cancelRequested = new HashSet<>();
  private boolean cancelAll;

  /**
   * A debate's deadline: it bounds every round and the synthesis, so its timer outlives the first
   * round. Null outside a debate with a deadline.
   */
  private Promise<Void> debateDeadline;

  /** Per agent whose fallbacks all failed: what each earlier model failed with. */
  private final Map<String, String> fallbackErrors = new HashMap<>();

  /** {@code Workflow.getVersion} ids of the commands added after the first recorded histories. */
  static final String FALLBACK_CHANGE = "agent-fallback";

  static final String POLICY_CHANGE = "query-policy";

  static final String DEBATE_CHANGE = "debate";

  /**
   * Fewer round trips per query through the Temporal server, which was the bottleneck of the query
   * rate: {@code markRunning} and {@code finishQuery} run as local activities (in the workflow task
   * that follows them, not as activity tasks of their own), and the RUNNING search attribute is set
   * by the api-server when it starts the workflow instead of upserted here.
   */
  static final String LEAN_CHANGE = "lean-bookkeeping";

  /**
   * The built-in ranking runs as a local activity in the workflow task that sees the last answer
   * (with the query's finish), instead of as an activity task and a workflow task of its own: a
   * one-agent query then costs the Temporal server two workflow tasks and one activity task. A
   * worker with a judge model answers the local activity with {@code null} and the ranking is
   * scheduled as before.
   */
  static final String LOCAL_RANKING_CHANGE = "local-ranking";

  /** The stream policy's maximum attempts: a fallback's attempts are numbered after these. */
  static final int MAX_STREAM_ATTEMPTS = 5;

  static ActivityOptions streamOptions(AgentSpec agent) {
    return ActivityOptions.newBuilder()
        .setTaskQueue(TaskQueues.provider(agent.provider()))
        .setSummary(agent.name())
        // A dead worker is failed over by a live one in about a second (WorkerLiveness); missing
        // heartbeats are the fallback when that cannot work (Redis away, a lone worker).
        .setHeartbeatTimeout(AgentStreamActivities.HEARTBEAT_TIMEOUT)
        .setStartToCloseTimeout(Duration.ofMinutes(10))
        // A cancelled agent gets to save what it streamed before the workflow moves on.
        .setCancellationType(ActivityCancellationType.WAIT_CANCELLATION_COMPLETED)
        .setScheduleToCloseTimeout(Duration.ofMinutes(30))
        .setRetryOptions(
            RetryOptions.newBuilder()
                .setInitialInterval(Duration.ofMillis(200))
                .setBackoffCoefficient(2)
                .setMaximumInterval(Duration.ofSeconds(30))
                .setMaximumAttempts(MAX_STREAM_ATTEMPTS)
                .build())
        .build();
  }

  @Override
  public ChatQueryResult run(ChatQueryInput input) {
    lean =
        Workflow.getVersion(LEAN_CHANGE, Workflow.DEFAULT_VERSION, 1) != Workflow.DEFAULT_VERSION;
    if (lean) {
      // Its events (query_started) still precede every agent's: the streaming activities are
      // scheduled by the same workflow task, which completes after this local activity.
      localLifecycle.markRunning(input.queryId());
    } else {
      lifecycle.markRunning(input.queryId());
      Workflow.upsertTypedSearchAttributes(
          ChorusSearchAttributes.STATUS.valueSet(QueryStatus.RUNNING.name()));
    }

    // Per agent, the task that ran last: a fallback's once one took over.
    List<AgentTask> tasks = new ArrayList<>();
    for (AgentSpec agent : input.agents()) {
      tasks.add(
          new AgentTask(
              input.queryId(), input.conversationId(), input.messageId(), agent, input.userId()));
    }
    List<Promise<AgentOutcome>> answers = start(tasks);

    Map<String, String> cutOff = applyPolicy(input, answers);

    List<AgentOutcome> outcomes = collect(tasks, answers, cutOff);

    QueryPolicy policy = input.policy();
    if (policy != null
        && policy.debates()
        && Workflow.getVersion(DEBATE_CHANGE, Workflow.DEFAULT_VERSION, 1)
            != Workflow.DEFAULT_VERSION) {
      return debate(input, policy, outcomes);
    }

    // An operator may cancel the workflow itself (Temporal UI/CLI): that cancels the whole query.
    boolean cancelled = stopped();
    QueryStatus status = status(outcomes, cancelled, cutOff.keySet());
    rank(input, outcomes);
    return finish(input, status, outcomes);
  }

  private ChatQueryResult finish(
      ChatQueryInput input, QueryStatus status, List<AgentOutcome> outcomes) {
    detached(() -> bookkeeping().finishQuery(input.queryId(), input.conversationId(), status));
    Workflow.upsertTypedSearchAttributes(ChorusSearchAttributes.STATUS.valueSet(status.name()));
    return new ChatQueryResult(status, outcomes);
  }

  /** Where this run's bookkeeping runs: local activities on the lean path. */
  private QueryLifecycleActivities bookkeeping() {
    return lean ? localLifecycle : lifecycle;
  }

  /** The whole query was cancelled: by the cancel signal, or the workflow itself (Temporal UI). */
  private boolean stopped() {
    return cancelAll || CancellationScope.current().isCancelRequested();
  }

  /**
   * Schedules every task's streaming activity, in task order, each in its own cancellation scope
   * (registered under the task's response name), and returns their answers in the same order.
   * {@code tasks} is updated in place when a fallback takes over.
   */
  private List<Promise<AgentOutcome>> start(List<AgentTask> tasks) {
    List<Promise<AgentOutcome>> answers = new ArrayList<>();
    for (int index = 0; index < tasks.size(); index++) {
      AgentTask task = tasks.get(index);
      AgentSpec agent = task.agent();
      var stub = Workflow.newActivityStub(AgentStreamActivities.class, streamOptions(agent));
      int at = index;
      CancellationScope scope =
          Workflow.newCancellationScope(() -> {
            // The agent's own model is scheduled here, in agent order, with or without fallbacks:
            // the same commands as before fallbacks existed.
            Promise<AgentOutcome> own = Async.function(stub::streamResponse, task);
            answers.add(
                agent.fallbackChain().isEmpty()
                    ? own
                    : Async.function(() -> answerWithFallbacks(own, tasks, at)));
          });
      scopes.put(agent.name(), scope);
      if (task.debates()) {
        currentRound.put(task.debate().speaker(), agent.name());
      }
      scope.run();
      if (cancelAll
          || cancelRequested.contains(agent.name())
          || (task.debates() && cancelRequested.contains(task.debate().speaker()))) {
        scope.cancel(); // the signal came before this agent started
      }
    }
    return answers;
  }

  /**
   * Waits for every answer and turns each into an outcome; a failed or cancelled agent is recorded
   * as such ({@code cutOff}: the agents the policy cancelled, with the reason).
   */
  private List<AgentOutcome> collect(
      List<AgentTask> tasks, List<Promise<AgentOutcome>> answers, Map<String, String> cutOff) {
    List<AgentOutcome> outcomes = new ArrayList<>();
    for (int i = 0; i < tasks.size(); i++) {
      AgentOutcome outcome;
      try {
        outcome = answers.get(i).get();
      } catch (ActivityFailure | CanceledFailure failure) {
        AgentTask task = tasks.get(i);
        String name = task.agent().name();
        if (failure instanceof CanceledFailure || failure.getCause() instanceof CanceledFailure) {
          detached(() -> bookkeeping().recordResponseCancelled(task));
          String why = cutOff.containsKey(name) ? "cancelled: " + cutOff.get(name) : "cancelled";
          outcome = new AgentOutcome(name, ResponseStatus.CANCELLED, 0, Usage.NONE, 0, why);
        } else {
          String error =
              fallbackErrors.getOrDefault(name, "") + describe((ActivityFailure) failure);
          detached(() -> bookkeeping().recordResponseFailure(task, error));
          outcome = new AgentOutcome(name, ResponseStatus.FAILED, 0, Usage.NONE, 0, error);
        }
      }
      outcomes.add(outcome.withModel(modelOf(tasks.get(i).agent())));
    }
    return outcomes;
  }

  /**
   * The rest of a debate once its first round is in ({@code firstRound}): each revision round asks
   * every agent that answered the round before, all at once, to revise seeing the others' answers
   * (only names go into the activity input; the texts stay in PostgreSQL); then the synthesizer's
   * model writes one answer from the last round's. Rounds stop early when fewer than two agents are
   * left to debate, and nothing further starts once the query is cancelled. The last round's
   * answers are ranked; the synthesis is the query's answer, not a contestant.
   */
  private ChatQueryResult debate(
      ChatQueryInput input, QueryPolicy policy, List<AgentOutcome> firstRound) {
    List<AgentOutcome> all = new ArrayList<>(firstRound);
    // The agents still debating (their specs as given) and their answers of the last round.
    List<AgentSpec> speakers = new ArrayList<>();
    List<AgentOutcome> last = new ArrayList<>();
    for (int i = 0; i < firstRound.size(); i++) {
      if (firstRound.get(i).status() == ResponseStatus.COMPLETED) {
        speakers.add(input.agents().get(i));
        last.add(firstRound.get(i));
      }
    }
    int lastRound = 1;
    for (int round = 2;
        round <= policy.roundCount()
            && speakers.size() >= 2
            && !stopped()
            && !fired(debateDeadline);
        round++) {
      List<String> previous = last.stream().map(AgentOutcome::agent).toList();
      List<AgentTask> tasks = new ArrayList<>();
      for (int i = 0; i < speakers.size(); i++) {
        AgentSpec speaker = speakers.get(i);
        tasks.add(
            new AgentTask(
                input.queryId(),
                input.conversationId(),
                input.messageId(),
                speaker.withName(DebateNames.round(speaker.name(), round)),
                input.userId(),
                null,
                new AgentTask.Debate(round, speaker.name(), previous.get(i), previous, false)));
      }
      List<AgentOutcome> outcomes = collectByDeadline(tasks, policy);
      all.addAll(outcomes);
      List<AgentSpec> nextSpeakers = new ArrayList<>();
      List<AgentOutcome> answered = new ArrayList<>();
      for (int i = 0; i < outcomes.size(); i++) {
        if (outcomes.get(i).status() == ResponseStatus.COMPLETED) {
          nextSpeakers.add(speakers.get(i));
          answered.add(outcomes.get(i));
        }
      }
      if (answered.isEmpty()) {
        break; // nobody revised: the round before stays the last one with answers
      }
      speakers = nextSpeakers;
      last = answered;
      lastRound = round;
    }

    AgentOutcome synthesis = null;
    if (!last.isEmpty() && !stopped() && !fired(debateDeadline)) {
      AgentSpec by = synthesizer(input, policy);
      var task =
          new AgentTask(
              input.queryId(),
              input.conversationId(),
              input.messageId(),
              new AgentSpec(
                  by.provider(),
                  by.model(),
                  DebateNames.SYNTHESIS,
                  null,
                  by.temperature(),
                  by.maxTokens(),
                  by.fallbacks()),
              input.userId(),
              null,
              new AgentTask.Debate(
                  lastRound,
                  DebateNames.SYNTHESIS,
                  null,
                  last.stream().map(AgentOutcome::agent).toList(),
                  true));
      List<AgentTask> tasks = new ArrayList<>(List.of(task));
      synthesis = collectByDeadline(tasks, policy).getFirst();
      all.add(synthesis);
    }

    QueryStatus status = debateStatus(all, synthesis, stopped());
    rank(input, last);
    return finish(input, status, all);
  }

  /**
   * Starts a debate round's tasks (or the synthesis) and collects their outcomes; when the debate's
   * deadline passes first, the tasks still answering are cut off and kept as CANCELLED.
   */
  private List<AgentOutcome> collectByDeadline(List<AgentTask> tasks, QueryPolicy policy) {
    List<Promise<AgentOutcome>> answers = start(tasks);
    if (debateDeadline == null) {
      return collect(tasks, answers, Map.of());
    }
    try {
      Workflow.await(() ->
          cancelAll || answers.stream().allMatch(Promise::isCompleted) || fired(debateDeadline));
    } catch (CanceledFailure workflowCancelled) {
      return collect(tasks, answers, Map.of()); // the agents stop on their own
    }
    Map<String, String> cutOff = new LinkedHashMap<>();
    if (!cancelAll && fired(debateDeadline)) {
      String reason = "the deadline of " + policy.deadlineSeconds() + " s passed";
      for (int i = 0; i < tasks.size(); i++) {
        AgentTask task = tasks.get(i);
        String name = task.agent().name();
        if (!answers.get(i).isCompleted()
            && !cancelRequested.contains(name)
            && !cancelRequested.contains(task.debate().speaker())) {
          cutOff.put(name, reason);
          scopes.get(name).cancel();
        }
      }
    }
    return collect(tasks, answers, cutOff);
  }

  /** The agent named by the policy's {@code synthesizer}, else the first agent. */
  private static AgentSpec synthesizer(ChatQueryInput input, QueryPolicy policy) {
    return input.agents().stream()
        .filter(a -> a.name().equals(policy.synthesizer()))
        .findFirst()
        .orElse(input.agents().getFirst());
  }

  /**
   * A debate is COMPLETED when its synthesis completed; else CANCELLED when the query was
   * cancelled, PARTIAL when some answer (of any round) completed, FAILED when none did.
   */
  static QueryStatus debateStatus(
      List<AgentOutcome> outcomes, AgentOutcome synthesis, boolean cancelAll) {
    if (synthesis != null && synthesis.status() == ResponseStatus.COMPLETED) {
      return QueryStatus.COMPLETED;
    }
    if (cancelAll) {
      return QueryStatus.CANCELLED;
    }
    return outcomes.stream().anyMatch(o -> o.status() == ResponseStatus.COMPLETED)
        ? QueryStatus.PARTIAL
        : QueryStatus.FAILED;
  }

  /**
   * Waits for the agent's own model ({@code own}) and, each time the current model fails for good
   * (not when cancelled), runs the next of its fallbacks, which continues from what the failed one
   * streamed. Runs in the agent's own scope, so cancelling the agent stops whichever model is
   * answering. Throws the last failure when the chain is exhausted.
   */
  private AgentOutcome answerWithFallbacks(
      Promise<AgentOutcome> own, List<AgentTask> tasks, int index) {
    AgentTask task = tasks.get(index);
    AgentSpec agent = task.agent();
    List<AgentSpec.Fallback> chain = agent.fallbackChain();
    StringBuilder errors = new StringBuilder();
    Promise<AgentOutcome> answer = own;
    for (int step = 0; ; step++) {
      try {
        return answer.get();
      } catch (ActivityFailure failure) {
        if (failure.getCause() instanceof CanceledFailure
            || step == chain.size()
            || CancellationScope.current().isCancelRequested()
            || Workflow.getVersion(FALLBACK_CHANGE, Workflow.DEFAULT_VERSION, 1)
                == Workflow.DEFAULT_VERSION) {
          if (step > 0) {
            errors.append(modelOf(task.agent())).append(": ");
            fallbackErrors.put(agent.name(), errors.toString());
          }
          throw failure;
        }
        AgentSpec.Fallback next = chain.get(step);
        errors.append(modelOf(task.agent())).append(": ").append(describe(failure)).append("; ");
        task =
            task.handedOver(
                agent.answeredBy(next),
                new AgentTask.Handover(
                    (step + 1) * MAX_STREAM_ATTEMPTS,
                    "falling back to " + next + " after " + failureType(failure)));
        tasks.set(index, task);
        var stub =
            Workflow.newActivityStub(AgentStreamActivities.class, streamOptions(task.agent()));
        answer = Async.function(stub::streamResponse, task);
      }
    }
  }

  /**
   * Waits as the query's policy says — until every agent is done, the deadline passes, or the
   * quorum is met — and cancels the agents still answering when it stops waiting early. Returns the
   * agents it cut off with the reason; empty without a policy, and for workflows that started
   * before policies existed.
   */
  private Map<String, String> applyPolicy(
      ChatQueryInput input, List<Promise<AgentOutcome>> answers) {
    QueryPolicy policy = input.policy();
    if (policy == null
        || !policy.limitsWaiting()
        || Workflow.getVersion(POLICY_CHANGE, Workflow.DEFAULT_VERSION, 1)
            == Workflow.DEFAULT_VERSION) {
      return Map.of();
    }
    if (policy.debates() && policy.deadlineSeconds() != null) {
      debateDeadline = timer(policy.deadlineSeconds(), "deadline");
    }
    // A timer the policy does not set stays null: it never fires.
    Map<String, Promise<Void>> timers = new HashMap<>();
    CancellationScope timerScope =
        Workflow.newCancellationScope(() -> {
          if (policy.deadlineSeconds() != null && debateDeadline == null) {
            timers.put("deadline", timer(policy.deadlineSeconds(), "deadline"));
          }
          if (policy.quorumAfterSeconds() != null) {
            timers.put("quorumAfter", timer(policy.quorumAfterSeconds(), "quorum after"));
          }
        });
    timerScope.run();
    Promise<Void> deadline = debateDeadline != null ? debateDeadline : timers.get("deadline");
    Promise<Void> quorumAfter = timers.get("quorumAfter");
    int quorum = policy.quorum() == null ? Integer.MAX_VALUE : policy.quorum();
    try {
      Workflow.await(() ->
          cancelAll
              || answers.stream().allMatch(Promise::isCompleted)
              || fired(deadline)
              || completed(answers) >= quorum
              || (fired(quorumAfter) && completed(answers) >= 1));
    } catch (CanceledFailure workflowCancelled) {
      // The whole workflow was cancelled: its agents stop on their own, as without a policy.
      return Map.of();
    } finally {
      timerScope.cancel();
    }
    if (cancelAll || answers.stream().allMatch(Promise::isCompleted)) {
      return Map.of();
    }
    long done = completed(answers);
    String reason =
        fired(deadline)
            ? "the deadline of " + policy.deadlineSeconds() + " s passed"
            : done >= quorum
                ? "a quorum of " + quorum + " answers was reached"
                : done + " answer(s) were in after " + policy.quorumAfterSeconds() + " s";
    Map<String, String> cutOff = new LinkedHashMap<>();
    for (int i = 0; i < answers.size(); i++) {
      String name = input.agents().get(i).name();
      if (!answers.get(i).isCompleted() && !cancelRequested.contains(name)) {
        cutOff.put(name, reason);
        scopes.get(name).cancel();
      }
    }
    return cutOff;
  }

  private static Promise<Void> timer(int seconds, String summary) {
    return Workflow.newTimer(
        Duration.ofSeconds(seconds), TimerOptions.newBuilder().setSummary(summary).build());
  }

  /** A timer that fired, as opposed to one that is pending or was cancelled. */
  private static boolean fired(Promise<Void> timer) {
    return timer != null && timer.isCompleted() && timer.getFailure() == null;
  }

  private static long completed(List<Promise<AgentOutcome>> answers) {
    return answers.stream().filter(p -> p.isCompleted() && p.getFailure() == null).count();
  }

  private static String modelOf(AgentSpec agent) {
    return agent.provider() + "/" + agent.model();
  }

  /** The failure's kind, e.g. {@code ProviderUnknownModel} or {@code TimeoutFailure}. */
  private static String failureType(ActivityFailure failure) {
    Throwable cause = failure.getCause();
    if (cause instanceof ApplicationFailure app) {
      return app.getType();
    }
    return cause == null ? failure.getClass().getSimpleName() : cause.getClass().getSimpleName();
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
    var task = new RankingTask(input.queryId(), input.conversationId(), input.userId(), done);
    try {
      detached(() -> {
        if (Workflow.getVersion(LOCAL_RANKING_CHANGE, Workflow.DEFAULT_VERSION, 1)
                == Workflow.DEFAULT_VERSION
            || localRanking.rankWithoutJudge(task) == null) {
          ranking.rankAnswers(task); // a judge ranks: an activity of its own, with heartbeats
        }
      });
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
    // In a debate an agent's own name also stops the round it is answering now.
    String current = currentRound.get(agent);
    if (current != null && scopes.containsKey(current)) {
      scopes.get(current).cancel();
    }
  }

  /**
   * COMPLETED when every agent that was not cancelled answered; CANCELLED when the query was
   * cancelled before all answered (or every agent was); FAILED when none answered; else PARTIAL.
   */
  static QueryStatus status(List<AgentOutcome> outcomes, boolean cancelAll) {
    return status(outcomes, cancelAll, Set.of());
  }

  /**
   * As {@link #status(List, boolean)}, but agents the policy cut off ({@code cutOff}: a deadline or
   * a quorum cancelled them) count as unanswered, not as cancelled by the user: with some answers
   * the query is PARTIAL, with none FAILED.
   */
  static QueryStatus status(List<AgentOutcome> outcomes, boolean cancelAll, Set<String> cutOff) {
    long completed = outcomes.stream().filter(o -> o.status() == ResponseStatus.COMPLETED).count();
    long cancelled =
        outcomes.stream()
            .filter(o -> o.status() == ResponseStatus.CANCELLED && !cutOff.contains(o.agent()))
            .count();
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
