package dev.chorus.worker.query;

import static dev.chorus.worker.query.WorkflowHarness.ALPHA;
import static dev.chorus.worker.query.WorkflowHarness.BETA;
import static dev.chorus.worker.query.WorkflowHarness.GAMMA;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import dev.chorus.model.agent.AgentSpec;
import dev.chorus.model.api.QueryStatus;
import dev.chorus.model.api.ResponseStatus;
import dev.chorus.model.workflow.AgentOutcome;
import dev.chorus.model.workflow.AgentTask;
import dev.chorus.model.workflow.ChatQueryInput;
import dev.chorus.model.workflow.ChatQueryResult;
import dev.chorus.model.workflow.ChatQueryWorkflow;
import dev.chorus.model.workflow.ChorusSearchAttributes;
import dev.chorus.model.workflow.QueryPolicy;
import dev.chorus.model.workflow.TaskQueues;
import dev.chorus.worker.query.WorkflowFakes.Call;
import dev.chorus.worker.query.WorkflowFakes.FinishQuery;
import dev.chorus.worker.query.WorkflowFakes.MarkRunning;
import dev.chorus.worker.query.WorkflowFakes.RecordCancelled;
import dev.chorus.worker.query.WorkflowFakes.RecordFailure;
import dev.chorus.worker.query.WorkflowFakes.StreamCall;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowExecutionDescription;
import io.temporal.client.WorkflowStub;
import io.temporal.failure.ApplicationFailure;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** {@link ChatQueryWorkflowImpl} on a time-skipping test server, with fake activities. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ChatQueryWorkflowTest {
  private WorkflowHarness harness;

  @BeforeEach
  void setUp() {
    harness = new WorkflowHarness();
  }

  @AfterEach
  void tearDown() {
    harness.close();
  }

  @Test
  void twoAgentsCompleteAndTheQueryIsCompleted() {
    ChatQueryInput input = WorkflowHarness.input(UUID.randomUUID(), ALPHA, BETA);
    ChatQueryWorkflow workflow = harness.newWorkflow(input);

    ChatQueryResult result = workflow.run(input);

    assertThat(result.status()).isEqualTo(QueryStatus.COMPLETED);
    assertThat(result.outcomes())
        .extracting(AgentOutcome::agent, AgentOutcome::status)
        .containsExactly(
            tuple("mock/alpha", ResponseStatus.COMPLETED),
            tuple("critic", ResponseStatus.COMPLETED));
    assertThat(result.outcomes())
        .allSatisfy(o -> assertThat(o.contentChars()).isPositive())
        .allSatisfy(o -> assertThat(o.error()).isNull());

    List<Call> calls = harness.log.all();
    assertThat(calls.getFirst()).isEqualTo(new MarkRunning(input.queryId()));
    assertThat(harness.log.of(MarkRunning.class)).hasSize(1);
    assertThat(harness.log.of(FinishQuery.class))
        .containsExactly(
            new FinishQuery(input.queryId(), input.conversationId(), QueryStatus.COMPLETED));
    assertThat(calls.getLast()).isInstanceOf(FinishQuery.class);
    assertThat(harness.log.of(RecordFailure.class)).isEmpty();
    assertThat(harness.log.of(StreamCall.class))
        .extracting(StreamCall::agent, StreamCall::attempt)
        .containsExactlyInAnyOrder(tuple("mock/alpha", 1), tuple("critic", 1));
    assertThat(statusAttribute(workflow)).isEqualTo("COMPLETED");
  }

  @Test
  void withoutFallbacksOrPolicyTheWorkflowRecordsNoVersionMarkersOrTimers() {
    ChatQueryInput input = WorkflowHarness.input(UUID.randomUUID(), ALPHA, BETA);

    harness.newWorkflow(input).run(input);

    var events =
        harness.client().fetchHistory(ChatQueryInput.workflowId(input.queryId())).getEvents();
    // Only the ranking's, the local ranking's and the lean path's version markers: fallbacks and
    // policies add nothing to
    // a plain query.
    assertThat(harness.versionChanges(input.queryId()))
        .containsExactly(
            ChatQueryWorkflowImpl.LEAN_CHANGE,
            "rank-answers",
            ChatQueryWorkflowImpl.LOCAL_RANKING_CHANGE);
    assertThat(events).noneMatch(e -> e.hasTimerStartedEventAttributes());
  }

  @Test
  void streamActivitiesRunOnTheTaskQueueOfTheAgentsProvider() {
    ChatQueryInput input = WorkflowHarness.input(UUID.randomUUID(), ALPHA, BETA);

    harness.newWorkflow(input).run(input);

    List<StreamCall> streams = harness.log.of(StreamCall.class);
    assertThat(streams)
        .extracting(StreamCall::agent, StreamCall::taskQueue)
        .containsExactlyInAnyOrder(
            tuple("mock/alpha", "chorus-provider-mock"), tuple("critic", "chorus-provider-other"));
    assertThat(TaskQueues.provider("other")).isEqualTo("chorus-provider-other");
    // The activity gets ids and the agent spec, never the message text.
    StreamCall beta =
        streams.stream().filter(c -> c.agent().equals("critic")).findFirst().orElseThrow();
    assertThat(beta.task().queryId()).isEqualTo(input.queryId());
    assertThat(beta.task().conversationId()).isEqualTo(input.conversationId());
    assertThat(beta.task().messageId()).isEqualTo(input.messageId());
    assertThat(beta.task().agent()).isEqualTo(BETA);
  }

  @Test
  void aNonRetryableFailureOfOneAgentMakesThePartialResult() {
    harness.agents.on(
        "critic",
        (task, attempt) -> {
          throw ApplicationFailure.newNonRetryableFailure(
              "model 'beta' does not exist", "UnknownModel");
        });
    ChatQueryInput input = WorkflowHarness.input(UUID.randomUUID(), ALPHA, BETA);
    ChatQueryWorkflow workflow = harness.newWorkflow(input);

    ChatQueryResult result = workflow.run(input);

    assertThat(result.status()).isEqualTo(QueryStatus.PARTIAL);
    assertThat(result.outcomes().get(0).status()).isEqualTo(ResponseStatus.COMPLETED);
    AgentOutcome failed = result.outcomes().get(1);
    assertThat(failed.agent()).isEqualTo("critic");
    assertThat(failed.status()).isEqualTo(ResponseStatus.FAILED);
    assertThat(failed.error()).contains("UnknownModel").contains("model 'beta' does not exist");

    List<RecordFailure> failures = harness.log.of(RecordFailure.class);
    assertThat(failures).hasSize(1);
    assertThat(failures.getFirst().task().agent()).isEqualTo(BETA);
    assertThat(failures.getFirst().task().queryId()).isEqualTo(input.queryId());
    assertThat(failures.getFirst().error())
        .startsWith("UnknownModel")
        .contains("model 'beta' does not exist");
    // Non-retryable: exactly one attempt.
    assertThat(harness.log.of(StreamCall.class))
        .filteredOn(c -> c.agent().equals("critic"))
        .extracting(StreamCall::attempt)
        .containsExactly(1);
    assertThat(harness.log.of(FinishQuery.class))
        .containsExactly(
            new FinishQuery(input.queryId(), input.conversationId(), QueryStatus.PARTIAL));
    assertThat(harness.log.all().getLast()).isInstanceOf(FinishQuery.class);
    assertThat(statusAttribute(workflow)).isEqualTo("PARTIAL");
  }

  @Test
  void whenEveryAgentFailsTheQueryFails() {
    harness
        .agents
        .on(
            "mock/alpha",
            (task, attempt) -> {
              throw ApplicationFailure.newNonRetryableFailure("bad request", "InvalidRequest");
            })
        .on(
            "critic",
            (task, attempt) -> {
              throw ApplicationFailure.newFailure("503 from provider", "ProviderUnavailable");
            });
    ChatQueryInput input = WorkflowHarness.input(UUID.randomUUID(), ALPHA, BETA);
    ChatQueryWorkflow workflow = harness.newWorkflow(input);

    ChatQueryResult result = workflow.run(input);

    assertThat(result.status()).isEqualTo(QueryStatus.FAILED);
    assertThat(result.outcomes())
        .extracting(AgentOutcome::status)
        .containsExactly(ResponseStatus.FAILED, ResponseStatus.FAILED);
    assertThat(harness.log.of(RecordFailure.class))
        .extracting(f -> f.task().agent().name(), RecordFailure::error)
        .containsExactlyInAnyOrder(
            tuple("mock/alpha", "InvalidRequest: bad request"),
            tuple("critic", "ProviderUnavailable: 503 from provider"));
    // The retryable one is retried up to the stream policy's maximum attempts, then given up.
    assertThat(harness.log.of(StreamCall.class))
        .filteredOn(c -> c.agent().equals("critic"))
        .extracting(StreamCall::attempt)
        .containsExactly(1, 2, 3, 4, 5);
    assertThat(harness.log.of(FinishQuery.class))
        .containsExactly(
            new FinishQuery(input.queryId(), input.conversationId(), QueryStatus.FAILED));
    assertThat(statusAttribute(workflow)).isEqualTo("FAILED");
  }

  @Test
  void aRetryableFailureIsRetriedAndTheSecondAttemptCompletes() {
    harness.agents.on(
        "mock/alpha",
        (task, attempt) -> {
          if (attempt == 1) {
            throw ApplicationFailure.newFailure("stream dropped", "StreamDropped");
          }
          return WorkflowFakes.completed(task);
        });
    ChatQueryInput input = WorkflowHarness.input(UUID.randomUUID(), ALPHA, BETA);
    ChatQueryWorkflow workflow = harness.newWorkflow(input);

    ChatQueryResult result = workflow.run(input);

    assertThat(result.status()).isEqualTo(QueryStatus.COMPLETED);
    assertThat(harness.log.of(StreamCall.class))
        .filteredOn(c -> c.agent().equals("mock/alpha"))
        .extracting(StreamCall::attempt)
        .containsExactly(1, 2);
    assertThat(harness.log.of(RecordFailure.class)).isEmpty();
    assertThat(harness.log.of(FinishQuery.class))
        .extracting(FinishQuery::status)
        .containsExactly(QueryStatus.COMPLETED);
    assertThat(statusAttribute(workflow)).isEqualTo("COMPLETED");
  }

  @Test
  void searchAttributesSayWhoseQueryItIsAndEndWithTheFinalStatus() {
    ChatQueryInput input = WorkflowHarness.input(UUID.randomUUID(), ALPHA, BETA);
    ChatQueryWorkflow workflow = harness.newWorkflow(input);

    workflow.run(input);

    WorkflowExecutionDescription description = WorkflowStub.fromTyped(workflow).describe();
    var attributes = description.getTypedSearchAttributes();
    assertThat(attributes.get(ChorusSearchAttributes.STATUS)).isEqualTo("COMPLETED");
    assertThat(attributes.get(ChorusSearchAttributes.USER_ID)).isEqualTo(input.userId().toString());
    assertThat(attributes.get(ChorusSearchAttributes.CONVERSATION_ID))
        .isEqualTo(input.conversationId().toString());
    assertThat(attributes.get(ChorusSearchAttributes.PROVIDERS)).containsExactly("mock", "other");
  }

  private static String statusAttribute(ChatQueryWorkflow workflow) {
    return WorkflowStub.fromTyped(workflow)
        .describe()
        .getTypedSearchAttributes()
        .get(ChorusSearchAttributes.STATUS);
  }

  @Test
  @Timeout(value = 60, unit = TimeUnit.SECONDS)
  void cancellingOneAgentStopsItKeepsTheOthersAndCompletesTheQuery() {
    harness.agents.on("critic", WorkflowFakes::streamsUntilCancelled);
    ChatQueryInput input = WorkflowHarness.input(UUID.randomUUID(), ALPHA, BETA);
    ChatQueryWorkflow workflow = harness.newWorkflow(input);
    WorkflowClient.start(workflow::run, input);
    awaitStreaming("critic");

    workflow.cancel("critic");
    ChatQueryResult result = WorkflowStub.fromTyped(workflow).getResult(ChatQueryResult.class);

    assertThat(result.outcomes())
        .extracting(AgentOutcome::agent, AgentOutcome::status)
        .containsExactly(
            tuple("mock/alpha", ResponseStatus.COMPLETED),
            tuple("critic", ResponseStatus.CANCELLED));
    assertThat(result.status()).isEqualTo(QueryStatus.COMPLETED);
    assertThat(harness.log.of(RecordCancelled.class))
        .extracting(c -> c.task().agent().name())
        .containsExactly("critic");
    assertThat(harness.log.of(RecordFailure.class)).isEmpty();
  }

  @Test
  @Timeout(value = 60, unit = TimeUnit.SECONDS)
  void cancellingTheQueryStopsEveryAgentAndEndsItCancelled() {
    harness
        .agents
        .on("mock/alpha", WorkflowFakes::streamsUntilCancelled)
        .on("critic", WorkflowFakes::streamsUntilCancelled);
    ChatQueryInput input = WorkflowHarness.input(UUID.randomUUID(), ALPHA, BETA);
    ChatQueryWorkflow workflow = harness.newWorkflow(input);
    WorkflowClient.start(workflow::run, input);
    awaitStreaming("mock/alpha");
    awaitStreaming("critic");

    workflow.cancel(null);
    ChatQueryResult result = WorkflowStub.fromTyped(workflow).getResult(ChatQueryResult.class);

    assertThat(result.status()).isEqualTo(QueryStatus.CANCELLED);
    assertThat(result.outcomes()).allMatch(o -> o.status() == ResponseStatus.CANCELLED);
    assertThat(harness.log.of(FinishQuery.class).getLast().status())
        .isEqualTo(QueryStatus.CANCELLED);
  }

  @Test
  void aCancelThatArrivesAfterEveryAgentAnsweredChangesNothing() {
    assertThat(
            ChatQueryWorkflowImpl.status(
                List.of(
                    new AgentOutcome("a", ResponseStatus.COMPLETED, 1, null, 1, null),
                    new AgentOutcome("b", ResponseStatus.COMPLETED, 1, null, 1, null)),
                true))
        .isEqualTo(QueryStatus.COMPLETED);
    assertThat(
            ChatQueryWorkflowImpl.status(
                List.of(
                    new AgentOutcome("a", ResponseStatus.FAILED, 0, null, 0, "x"),
                    new AgentOutcome("b", ResponseStatus.CANCELLED, 0, null, 0, "cancelled")),
                false))
        .isEqualTo(QueryStatus.FAILED);
    assertThat(
            ChatQueryWorkflowImpl.status(
                List.of(
                    new AgentOutcome("a", ResponseStatus.COMPLETED, 1, null, 1, null),
                    new AgentOutcome("b", ResponseStatus.FAILED, 0, null, 0, "x"),
                    new AgentOutcome("c", ResponseStatus.CANCELLED, 0, null, 0, "cancelled")),
                false))
        .isEqualTo(QueryStatus.PARTIAL);
  }

  @Test
  void theCompletedAnswersAreRankedBeforeTheQueryIsFinishedAndFailuresAreNot() {
    harness.agents.on(
        "critic",
        (task, attempt) -> {
          throw ApplicationFailure.newNonRetryableFailure("no", "ProviderAuthFailed");
        });
    ChatQueryInput input = WorkflowHarness.input(UUID.randomUUID(), ALPHA, BETA);

    harness.newWorkflow(input).run(input);

    List<Call> calls = harness.log.all();
    var rank = harness.log.of(WorkflowFakes.Rank.class);
    assertThat(rank).hasSize(1);
    assertThat(rank.getFirst().task().agents()).containsExactly("mock/alpha");
    assertThat(rank.getFirst().task().userId()).isEqualTo(input.userId());
    assertThat(calls.indexOf(rank.getFirst()))
        .isLessThan(calls.indexOf(harness.log.of(FinishQuery.class).getFirst()));
  }

  @Test
  void withoutAJudgeTheRankingIsALocalActivityAndCostsNoActivityTask() {
    ChatQueryInput input = WorkflowHarness.input(UUID.randomUUID(), ALPHA);

    harness.newWorkflow(input).run(input);

    assertThat(harness.log.of(WorkflowFakes.Rank.class)).hasSize(1);
    assertThat(harness.log.of(WorkflowFakes.RankLeftToJudge.class)).isEmpty();
    var events =
        harness.client().fetchHistory(ChatQueryInput.workflowId(input.queryId())).getEvents();
    assertThat(events)
        .filteredOn(e -> e.hasActivityTaskScheduledEventAttributes())
        .extracting(e -> e.getActivityTaskScheduledEventAttributes().getActivityType().getName())
        .containsExactly("StreamResponse");
    // Stream done → rank, finish and complete in one workflow task: two in all.
    assertThat(events).filteredOn(e -> e.hasWorkflowTaskCompletedEventAttributes()).hasSize(2);
  }

  @Test
  void aWorkerWithAJudgeRanksInAnActivityOfItsOwn() {
    harness.ranking.judges = true;
    ChatQueryInput input = WorkflowHarness.input(UUID.randomUUID(), ALPHA, BETA);

    harness.newWorkflow(input).run(input);

    List<Call> calls = harness.log.all();
    var asked = harness.log.of(WorkflowFakes.RankLeftToJudge.class);
    var rank = harness.log.of(WorkflowFakes.Rank.class);
    assertThat(asked).hasSize(1);
    assertThat(rank).hasSize(1);
    assertThat(rank.getFirst().task()).isEqualTo(asked.getFirst().task());
    assertThat(calls.indexOf(asked.getFirst())).isLessThan(calls.indexOf(rank.getFirst()));
    assertThat(calls.indexOf(rank.getFirst()))
        .isLessThan(calls.indexOf(harness.log.of(FinishQuery.class).getFirst()));
    assertThat(
            harness.client().fetchHistory(ChatQueryInput.workflowId(input.queryId())).getEvents())
        .filteredOn(e -> e.hasActivityTaskScheduledEventAttributes())
        .extracting(e -> e.getActivityTaskScheduledEventAttributes().getActivityType().getName())
        .containsExactly("StreamResponse", "StreamResponse", "RankAnswers");
  }

  @Test
  void nothingIsRankedWhenNoAnswerCompleted() {
    harness.agents.on(
        "mock/alpha",
        (task, attempt) -> {
          throw ApplicationFailure.newNonRetryableFailure("no", "ProviderAuthFailed");
        });
    ChatQueryInput input = WorkflowHarness.input(UUID.randomUUID(), ALPHA);

    harness.newWorkflow(input).run(input);

    assertThat(harness.log.of(WorkflowFakes.Rank.class)).isEmpty();
  }

  // --- fallbacks --------------------------------------------------------------------------

  @Test
  void aFallbackModelTakesOverAfterANonRetryableFailureUnderTheSameAgentName() {
    harness.agents.onModel("alpha", WorkflowFakes::unknownModel);
    AgentSpec alpha = WorkflowHarness.withFallbacks(ALPHA, "other/beta-2", "mock/gamma");
    ChatQueryInput input = WorkflowHarness.input(UUID.randomUUID(), alpha, BETA);
    ChatQueryWorkflow workflow = harness.newWorkflow(input);

    ChatQueryResult result = workflow.run(input);

    assertThat(result.status()).isEqualTo(QueryStatus.COMPLETED);
    assertThat(result.outcomes())
        .extracting(AgentOutcome::agent, AgentOutcome::status, AgentOutcome::model)
        .containsExactly(
            tuple("mock/alpha", ResponseStatus.COMPLETED, "other/beta-2"),
            tuple("critic", ResponseStatus.COMPLETED, "other/beta"));
    List<StreamCall> calls =
        harness.log.of(StreamCall.class).stream()
            .filter(c -> c.agent().equals("mock/alpha"))
            .toList();
    // Non-retryable: one attempt of the agent's own model, then the first fallback, which answers.
    assertThat(calls)
        .extracting(c -> c.task().agent().model(), StreamCall::taskQueue, StreamCall::attempt)
        .containsExactly(
            tuple("alpha", "chorus-provider-mock", 1), tuple("beta-2", "chorus-provider-other", 1));
    assertThat(calls.getFirst().task().handsOver()).isFalse();
    AgentTask fallback = calls.get(1).task();
    assertThat(fallback.handsOver()).isTrue();
    assertThat(fallback.agent().name()).isEqualTo("mock/alpha");
    assertThat(fallback.agent().provider()).isEqualTo("other");
    assertThat(fallback.agent().fallbacks()).isNull();
    assertThat(fallback.agent().systemPrompt()).isEqualTo(ALPHA.systemPrompt());
    assertThat(fallback.queryId()).isEqualTo(input.queryId());
    assertThat(fallback.handover().reason())
        .isEqualTo("falling back to other/beta-2 after ProviderUnknownModel");
    // Its attempts are numbered after every attempt the failed model could have used.
    assertThat(fallback.attemptNumber(1)).isEqualTo(ChatQueryWorkflowImpl.MAX_STREAM_ATTEMPTS + 1);
    // The failure that was handed over is not reported: the client sees one answer.
    assertThat(harness.log.of(RecordFailure.class)).isEmpty();
    assertThat(harness.log.of(WorkflowFakes.Rank.class).getFirst().task().agents())
        .containsExactly("mock/alpha", "critic");
  }

  @Test
  void aFallbackTakesOverWhenTheRetriesOfTheModelBeforeItRunOut() {
    harness.agents.onModel("alpha", WorkflowFakes::unavailable);
    AgentSpec alpha = WorkflowHarness.withFallbacks(ALPHA, "other/beta-2");
    ChatQueryInput input = WorkflowHarness.input(UUID.randomUUID(), alpha);

    ChatQueryResult result = harness.newWorkflow(input).run(input);

    assertThat(result.status()).isEqualTo(QueryStatus.COMPLETED);
    assertThat(harness.log.of(StreamCall.class))
        .extracting(c -> c.task().agent().model(), StreamCall::attempt)
        .containsExactly(
            tuple("alpha", 1),
            tuple("alpha", 2),
            tuple("alpha", 3),
            tuple("alpha", 4),
            tuple("alpha", 5),
            tuple("beta-2", 1));
    assertThat(harness.log.of(StreamCall.class).getLast().task().handover().reason())
        .isEqualTo("falling back to other/beta-2 after ProviderUnavailable");
  }

  @Test
  void whenTheWholeFallbackChainFailsTheAgentFailsWithEveryModelsError() {
    harness
        .agents
        .onModel("alpha", WorkflowFakes::unknownModel)
        .onModel("beta-2", WorkflowFakes::unavailable)
        .onModel("gamma", WorkflowFakes::unknownModel);
    AgentSpec alpha = WorkflowHarness.withFallbacks(ALPHA, "other/beta-2", "mock/gamma");
    ChatQueryInput input = WorkflowHarness.input(UUID.randomUUID(), alpha, BETA);
    ChatQueryWorkflow workflow = harness.newWorkflow(input);

    ChatQueryResult result = workflow.run(input);

    assertThat(result.status()).isEqualTo(QueryStatus.PARTIAL);
    AgentOutcome failed = result.outcomes().getFirst();
    assertThat(failed.status()).isEqualTo(ResponseStatus.FAILED);
    assertThat(failed.model()).isEqualTo("mock/gamma");
    assertThat(failed.error())
        .isEqualTo(
            "mock/alpha: ProviderUnknownModel: model 'alpha' does not exist; "
                + "other/beta-2: ProviderUnavailable: 503 from other; "
                + "mock/gamma: ProviderUnknownModel: model 'gamma' does not exist");
    assertThat(harness.log.of(StreamCall.class))
        .filteredOn(c -> c.agent().equals("mock/alpha"))
        .extracting(c -> c.task().agent().model(), StreamCall::attempt)
        .containsExactly(
            tuple("alpha", 1),
            tuple("beta-2", 1),
            tuple("beta-2", 2),
            tuple("beta-2", 3),
            tuple("beta-2", 4),
            tuple("beta-2", 5),
            tuple("gamma", 1));
    StreamCall last = harness.log.of(StreamCall.class).getLast();
    assertThat(last.taskQueue()).isEqualTo("chorus-provider-mock");
    assertThat(last.task().attemptNumber(1))
        .isEqualTo(2 * ChatQueryWorkflowImpl.MAX_STREAM_ATTEMPTS + 1);
    // Reported once, for the model that failed last.
    assertThat(harness.log.of(RecordFailure.class))
        .extracting(f -> f.task().agent().name(), f -> f.task().agent().model())
        .containsExactly(tuple("mock/alpha", "gamma"));
    assertThat(statusAttribute(workflow)).isEqualTo("PARTIAL");
  }

  @Test
  @Timeout(value = 60, unit = TimeUnit.SECONDS)
  void aCancelledAgentDoesNotFallBack() {
    harness.agents.onModel("alpha", WorkflowFakes::streamsUntilCancelled);
    AgentSpec alpha = WorkflowHarness.withFallbacks(ALPHA, "other/beta-2");
    ChatQueryInput input = WorkflowHarness.input(UUID.randomUUID(), alpha, BETA);
    ChatQueryWorkflow workflow = harness.newWorkflow(input);
    WorkflowClient.start(workflow::run, input);
    awaitStreaming("mock/alpha");

    workflow.cancel("mock/alpha");
    ChatQueryResult result = WorkflowStub.fromTyped(workflow).getResult(ChatQueryResult.class);

    assertThat(result.status()).isEqualTo(QueryStatus.COMPLETED);
    assertThat(result.outcomes())
        .extracting(AgentOutcome::agent, AgentOutcome::status, AgentOutcome::model)
        .containsExactly(
            tuple("mock/alpha", ResponseStatus.CANCELLED, "mock/alpha"),
            tuple("critic", ResponseStatus.COMPLETED, "other/beta"));
    assertThat(harness.log.of(StreamCall.class))
        .filteredOn(c -> c.agent().equals("mock/alpha"))
        .extracting(c -> c.task().agent().model())
        .containsExactly("alpha");
    assertThat(harness.log.of(RecordCancelled.class))
        .extracting(c -> c.task().agent().name())
        .containsExactly("mock/alpha");
  }

  // --- deadline and quorum ----------------------------------------------------------------

  @Test
  void theDeadlineCancelsASlowAgentAndTheQueryEndsPartial() {
    harness.agents.on("critic", WorkflowFakes::rateLimitedForTenMinutes);
    ChatQueryInput input =
        WorkflowHarness.input(UUID.randomUUID(), new QueryPolicy(30, null, null), ALPHA, BETA);
    ChatQueryWorkflow workflow = harness.newWorkflow(input);
    long started = System.nanoTime();

    // The test server skips the 30 s: no activity runs while the critic waits out its Retry-After.
    ChatQueryResult result = workflow.run(input);

    assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(20));
    assertThat(result.status()).isEqualTo(QueryStatus.PARTIAL);
    assertThat(result.outcomes())
        .extracting(AgentOutcome::agent, AgentOutcome::status)
        .containsExactly(
            tuple("mock/alpha", ResponseStatus.COMPLETED),
            tuple("critic", ResponseStatus.CANCELLED));
    assertThat(result.outcomes().get(1).error())
        .isEqualTo("cancelled: the deadline of 30 s passed");
    // Cancelled between attempts, so the workflow records the cancel for it.
    assertThat(harness.log.of(RecordCancelled.class))
        .extracting(c -> c.task().agent().name())
        .containsExactly("critic");
    assertThat(harness.log.of(StreamCall.class))
        .filteredOn(c -> c.agent().equals("critic"))
        .extracting(StreamCall::attempt)
        .containsExactly(1);
    assertThat(harness.log.of(WorkflowFakes.Rank.class).getFirst().task().agents())
        .containsExactly("mock/alpha");
    assertThat(harness.log.of(FinishQuery.class))
        .extracting(FinishQuery::status)
        .containsExactly(QueryStatus.PARTIAL);
    assertThat(statusAttribute(workflow)).isEqualTo("PARTIAL");
    var history = harness.client().fetchHistory(ChatQueryInput.workflowId(input.queryId()));
    assertThat(history.getEvents()).filteredOn(e -> e.hasTimerFiredEventAttributes()).hasSize(1);
  }

  @Test
  @Timeout(value = 60, unit = TimeUnit.SECONDS)
  void theDeadlineCancelsAStreamingAgentToo() {
    // A running activity holds the test server's clock: this one waits its 2 s for real.
    harness.agents.on("critic", WorkflowFakes::streamsUntilCancelled);
    ChatQueryInput input =
        WorkflowHarness.input(UUID.randomUUID(), new QueryPolicy(2, null, null), ALPHA, BETA);

    ChatQueryResult result = harness.newWorkflow(input).run(input);

    assertThat(result.status()).isEqualTo(QueryStatus.PARTIAL);
    assertThat(result.outcomes())
        .extracting(AgentOutcome::agent, AgentOutcome::status)
        .containsExactly(
            tuple("mock/alpha", ResponseStatus.COMPLETED),
            tuple("critic", ResponseStatus.CANCELLED));
    assertThat(harness.log.of(StreamCall.class))
        .filteredOn(c -> c.agent().equals("critic"))
        .extracting(StreamCall::attempt)
        .containsExactly(1);
  }

  @Test
  void aDeadlineWithNoAnswerInFailsTheQueryRatherThanCancellingIt() {
    harness
        .agents
        .on("mock/alpha", WorkflowFakes::rateLimitedForTenMinutes)
        .on("critic", WorkflowFakes::rateLimitedForTenMinutes);
    ChatQueryInput input =
        WorkflowHarness.input(UUID.randomUUID(), new QueryPolicy(300, null, null), ALPHA, BETA);
    ChatQueryWorkflow workflow = harness.newWorkflow(input);

    ChatQueryResult result = workflow.run(input);

    assertThat(result.status()).isEqualTo(QueryStatus.FAILED);
    assertThat(result.outcomes()).allMatch(o -> o.status() == ResponseStatus.CANCELLED);
    assertThat(harness.log.of(WorkflowFakes.Rank.class)).isEmpty();
    assertThat(statusAttribute(workflow)).isEqualTo("FAILED");
  }

  @Test
  void aPolicyThatIsNotNeededChangesNothing() {
    ChatQueryInput input =
        WorkflowHarness.input(UUID.randomUUID(), new QueryPolicy(60, 2, 30), ALPHA, BETA);
    ChatQueryWorkflow workflow = harness.newWorkflow(input);

    ChatQueryResult result = workflow.run(input);

    assertThat(result.status()).isEqualTo(QueryStatus.COMPLETED);
    assertThat(result.outcomes()).allMatch(o -> o.status() == ResponseStatus.COMPLETED);
    assertThat(result.outcomes()).allMatch(o -> o.error() == null);
    // Its timers are cancelled once every answer is in.
    var history = harness.client().fetchHistory(ChatQueryInput.workflowId(input.queryId()));
    assertThat(history.getEvents()).filteredOn(e -> e.hasTimerStartedEventAttributes()).hasSize(2);
    assertThat(history.getEvents()).filteredOn(e -> e.hasTimerCanceledEventAttributes()).hasSize(2);
  }

  @Test
  @Timeout(value = 60, unit = TimeUnit.SECONDS)
  void aQuorumOfTwoOfThreeCancelsTheStragglerAndRanksTheTwo() {
    harness.agents.on("mock/gamma", WorkflowFakes::streamsUntilCancelled);
    ChatQueryInput input =
        WorkflowHarness.input(
            UUID.randomUUID(), new QueryPolicy(null, 2, null), ALPHA, BETA, GAMMA);
    ChatQueryWorkflow workflow = harness.newWorkflow(input);

    ChatQueryResult result = workflow.run(input);

    assertThat(result.status()).isEqualTo(QueryStatus.PARTIAL);
    assertThat(result.outcomes())
        .extracting(AgentOutcome::agent, AgentOutcome::status)
        .containsExactly(
            tuple("mock/alpha", ResponseStatus.COMPLETED),
            tuple("critic", ResponseStatus.COMPLETED),
            tuple("mock/gamma", ResponseStatus.CANCELLED));
    assertThat(result.outcomes().get(2).error())
        .isEqualTo("cancelled: a quorum of 2 answers was reached");
    assertThat(harness.log.of(WorkflowFakes.Rank.class).getFirst().task().agents())
        .containsExactly("mock/alpha", "critic");
    assertThat(harness.log.of(RecordCancelled.class))
        .extracting(c -> c.task().agent().name())
        .containsExactly("mock/gamma");
    assertThat(statusAttribute(workflow)).isEqualTo("PARTIAL");
  }

  @Test
  void afterQuorumAfterSecondsOneAnswerIsEnough() {
    harness.agents.on("critic", WorkflowFakes::rateLimitedForTenMinutes);
    ChatQueryInput input =
        WorkflowHarness.input(UUID.randomUUID(), new QueryPolicy(null, 2, 60), ALPHA, BETA);
    long started = System.nanoTime();

    ChatQueryResult result = harness.newWorkflow(input).run(input);

    assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(30));
    assertThat(result.status()).isEqualTo(QueryStatus.PARTIAL);
    assertThat(result.outcomes())
        .extracting(AgentOutcome::agent, AgentOutcome::status)
        .containsExactly(
            tuple("mock/alpha", ResponseStatus.COMPLETED),
            tuple("critic", ResponseStatus.CANCELLED));
    assertThat(result.outcomes().get(1).error())
        .isEqualTo("cancelled: 1 answer(s) were in after 60 s");
  }

  @Test
  void quorumAfterSecondsWaitsForTheFirstAnswer() {
    // Nothing is in when the 1 s has passed; the first answer (after two retries) ends the wait.
    harness
        .agents
        .on(
            "mock/alpha",
            (task, attempt) -> {
              if (attempt < 3) {
                throw ApplicationFailure.newFailure("dropped", "ProviderStreamBroken");
              }
              return WorkflowFakes.completed(task);
            })
        .on("critic", WorkflowFakes::rateLimitedForTenMinutes);
    ChatQueryInput input =
        WorkflowHarness.input(UUID.randomUUID(), new QueryPolicy(null, null, 1), ALPHA, BETA);

    ChatQueryResult result = harness.newWorkflow(input).run(input);

    assertThat(result.status()).isEqualTo(QueryStatus.PARTIAL);
    assertThat(result.outcomes())
        .extracting(AgentOutcome::status)
        .containsExactly(ResponseStatus.COMPLETED, ResponseStatus.CANCELLED);
    assertThat(harness.log.of(StreamCall.class))
        .filteredOn(c -> c.agent().equals("mock/alpha"))
        .extracting(StreamCall::attempt)
        .containsExactly(1, 2, 3);
  }

  @Test
  void cutOffAgentsCountAsUnansweredNotAsCancelledByTheUser() {
    List<AgentOutcome> oneIn =
        List.of(
            new AgentOutcome("a", ResponseStatus.COMPLETED, 1, null, 1, null),
            new AgentOutcome("b", ResponseStatus.CANCELLED, 0, null, 0, "cancelled"));
    assertThat(ChatQueryWorkflowImpl.status(oneIn, false, Set.of()))
        .isEqualTo(QueryStatus.COMPLETED);
    assertThat(ChatQueryWorkflowImpl.status(oneIn, false, Set.of("b")))
        .isEqualTo(QueryStatus.PARTIAL);
    List<AgentOutcome> noneIn =
        List.of(
            new AgentOutcome("a", ResponseStatus.CANCELLED, 0, null, 0, "cancelled"),
            new AgentOutcome("b", ResponseStatus.CANCELLED, 0, null, 0, "cancelled"));
    assertThat(ChatQueryWorkflowImpl.status(noneIn, false, Set.of()))
        .isEqualTo(QueryStatus.CANCELLED);
    assertThat(ChatQueryWorkflowImpl.status(noneIn, false, Set.of("a", "b")))
        .isEqualTo(QueryStatus.FAILED);
    // A user's cancel of the whole query still wins.
    assertThat(ChatQueryWorkflowImpl.status(noneIn, true, Set.of("a", "b")))
        .isEqualTo(QueryStatus.CANCELLED);
  }

  private void awaitStreaming(String agent) {
    org.awaitility.Awaitility.await()
        .atMost(Duration.ofSeconds(20))
        .until(
            () -> harness.log.of(StreamCall.class).stream().anyMatch(c -> c.agent().equals(agent)));
  }
}
