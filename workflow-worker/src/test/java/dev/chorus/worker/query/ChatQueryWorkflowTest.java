package dev.chorus.worker.query;

import static dev.chorus.worker.query.WorkflowHarness.ALPHA;
import static dev.chorus.worker.query.WorkflowHarness.BETA;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import dev.chorus.model.api.QueryStatus;
import dev.chorus.model.api.ResponseStatus;
import dev.chorus.model.workflow.AgentOutcome;
import dev.chorus.model.workflow.ChatQueryInput;
import dev.chorus.model.workflow.ChatQueryResult;
import dev.chorus.model.workflow.ChatQueryWorkflow;
import dev.chorus.model.workflow.ChorusSearchAttributes;
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
import java.util.List;
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

  private void awaitStreaming(String agent) {
    org.awaitility.Awaitility.await()
        .atMost(java.time.Duration.ofSeconds(20))
        .until(
            () -> harness.log.of(StreamCall.class).stream().anyMatch(c -> c.agent().equals(agent)));
  }
}
