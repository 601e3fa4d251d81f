package dev.chorus.worker.query;

import static dev.chorus.worker.query.WorkflowHarness.ALPHA;
import static dev.chorus.worker.query.WorkflowHarness.BETA;
import static dev.chorus.worker.query.WorkflowHarness.GAMMA;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import dev.chorus.model.api.QueryStatus;
import dev.chorus.model.api.ResponseStatus;
import dev.chorus.model.workflow.AgentOutcome;
import dev.chorus.model.workflow.AgentTask;
import dev.chorus.model.workflow.ChatQueryInput;
import dev.chorus.model.workflow.ChatQueryResult;
import dev.chorus.model.workflow.ChatQueryWorkflow;
import dev.chorus.model.workflow.DebateNames;
import dev.chorus.model.workflow.QueryPolicy;
import dev.chorus.worker.query.WorkflowFakes.Call;
import dev.chorus.worker.query.WorkflowFakes.FinishQuery;
import dev.chorus.worker.query.WorkflowFakes.Rank;
import dev.chorus.worker.query.WorkflowFakes.RecordCancelled;
import dev.chorus.worker.query.WorkflowFakes.RecordFailure;
import dev.chorus.worker.query.WorkflowFakes.StreamCall;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowStub;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Debate mode of {@link ChatQueryWorkflowImpl}: rounds, synthesis, drop-outs and cancels. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class DebateWorkflowTest {
  private static final String ALPHA_2 = "mock/alpha · round 2";
  private static final String ALPHA_3 = "mock/alpha · round 3";
  private static final String CRITIC_2 = "critic · round 2";
  private static final String CRITIC_3 = "critic · round 3";

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
  void threeRoundsOfTwoAgentsThenTheSynthesisCompleteTheQuery() {
    ChatQueryInput input =
        WorkflowHarness.input(UUID.randomUUID(), QueryPolicy.debate(3, null), ALPHA, BETA);

    ChatQueryResult result = harness.newWorkflow(input).run(input);

    assertThat(result.status()).isEqualTo(QueryStatus.COMPLETED);
    assertThat(result.outcomes())
        .extracting(AgentOutcome::agent, AgentOutcome::status)
        .containsExactly(
            tuple("mock/alpha", ResponseStatus.COMPLETED),
            tuple("critic", ResponseStatus.COMPLETED),
            tuple(ALPHA_2, ResponseStatus.COMPLETED),
            tuple(CRITIC_2, ResponseStatus.COMPLETED),
            tuple(ALPHA_3, ResponseStatus.COMPLETED),
            tuple(CRITIC_3, ResponseStatus.COMPLETED),
            tuple(DebateNames.SYNTHESIS, ResponseStatus.COMPLETED));

    List<StreamCall> streams = harness.log.of(StreamCall.class);
    assertThat(streams).hasSize(7);
    // Each round runs after the one before, its agents in parallel; the synthesis comes last.
    assertThat(streams.subList(0, 2))
        .extracting(StreamCall::agent)
        .containsExactlyInAnyOrder("mock/alpha", "critic");
    assertThat(streams.subList(2, 4))
        .extracting(StreamCall::agent)
        .containsExactlyInAnyOrder(ALPHA_2, CRITIC_2);
    assertThat(streams.subList(4, 6))
        .extracting(StreamCall::agent)
        .containsExactlyInAnyOrder(ALPHA_3, CRITIC_3);
    assertThat(streams.get(6).agent()).isEqualTo(DebateNames.SYNTHESIS);
    assertThat(streams.subList(0, 2)).allMatch(c -> c.task().debate() == null);

    // A revision round names the previous round's answers (not their texts) and the agent's own.
    AgentTask critic2 = task(streams, CRITIC_2);
    assertThat(critic2.debate())
        .isEqualTo(
            new AgentTask.Debate(2, "critic", "critic", List.of("mock/alpha", "critic"), false));
    assertThat(critic2.agent().provider()).isEqualTo(BETA.provider());
    assertThat(critic2.agent().systemPrompt()).isEqualTo(BETA.systemPrompt());
    assertThat(streams.stream().filter(c -> c.agent().equals(CRITIC_2)).findFirst().orElseThrow())
        .extracting(StreamCall::taskQueue)
        .isEqualTo("chorus-provider-other");
    assertThat(task(streams, ALPHA_3).debate())
        .isEqualTo(
            new AgentTask.Debate(3, "mock/alpha", ALPHA_2, List.of(ALPHA_2, CRITIC_2), false));

    // The synthesis: the first agent's model (the default synthesizer) over the last round.
    StreamCall synthesis = streams.get(6);
    assertThat(synthesis.taskQueue()).isEqualTo("chorus-provider-mock");
    assertThat(synthesis.task().agent().model()).isEqualTo("alpha");
    assertThat(synthesis.task().debate())
        .isEqualTo(
            new AgentTask.Debate(3, DebateNames.SYNTHESIS, null, List.of(ALPHA_3, CRITIC_3), true));

    // The last round is ranked, before the query finishes.
    assertThat(harness.log.of(Rank.class))
        .singleElement()
        .satisfies(r -> assertThat(r.task().agents()).containsExactly(ALPHA_3, CRITIC_3));
    List<Call> calls = harness.log.all();
    assertThat(calls.get(calls.size() - 2)).isInstanceOf(Rank.class);
    assertThat(calls.getLast())
        .isEqualTo(new FinishQuery(input.queryId(), input.conversationId(), QueryStatus.COMPLETED));
  }

  @Test
  void theDefaultIsTwoRoundsAndTheNamedSynthesizerWritesTheSynthesis() {
    ChatQueryInput input =
        WorkflowHarness.input(
            UUID.randomUUID(),
            new QueryPolicy(null, null, null, QueryPolicy.DEBATE, null, "critic"),
            ALPHA,
            BETA);

    ChatQueryResult result = harness.newWorkflow(input).run(input);

    assertThat(result.status()).isEqualTo(QueryStatus.COMPLETED);
    assertThat(harness.log.of(StreamCall.class)).extracting(StreamCall::agent).hasSize(5);
    StreamCall synthesis = harness.log.of(StreamCall.class).getLast();
    assertThat(synthesis.agent()).isEqualTo(DebateNames.SYNTHESIS);
    assertThat(synthesis.taskQueue()).isEqualTo("chorus-provider-other");
    assertThat(synthesis.task().agent().model()).isEqualTo("beta");
    assertThat(synthesis.task().agent().systemPrompt()).isNull();
    assertThat(synthesis.task().debate().answers()).containsExactly(ALPHA_2, CRITIC_2);
  }

  @Test
  void anAgentThatFailsDropsOutOfTheLaterRounds() {
    harness.agents.on(CRITIC_2, WorkflowFakes::unknownModel);
    ChatQueryInput input =
        WorkflowHarness.input(UUID.randomUUID(), QueryPolicy.debate(3, null), ALPHA, BETA, GAMMA);

    ChatQueryResult result = harness.newWorkflow(input).run(input);

    assertThat(result.status()).isEqualTo(QueryStatus.COMPLETED);
    assertThat(harness.log.of(RecordFailure.class))
        .extracting(f -> f.task().agent().name())
        .containsExactly(CRITIC_2);
    List<StreamCall> streams = harness.log.of(StreamCall.class);
    assertThat(streams)
        .extracting(StreamCall::agent)
        .doesNotContain(CRITIC_3)
        .contains(ALPHA_3, "mock/gamma · round 3");
    assertThat(task(streams, ALPHA_3).debate().answers())
        .containsExactly(ALPHA_2, "mock/gamma · round 2");
    assertThat(streams.getLast().task().debate().answers())
        .containsExactly(ALPHA_3, "mock/gamma · round 3");
    assertThat(harness.log.of(Rank.class).getFirst().task().agents())
        .containsExactly(ALPHA_3, "mock/gamma · round 3");
  }

  @Test
  void aQuorumDecidesWhoEntersTheDebate() {
    harness.agents.on("mock/gamma", WorkflowFakes::streamsUntilCancelled);
    ChatQueryInput input =
        WorkflowHarness.input(
            UUID.randomUUID(),
            new QueryPolicy(null, 2, null, QueryPolicy.DEBATE, 2, null),
            ALPHA,
            BETA,
            GAMMA);

    ChatQueryResult result = harness.newWorkflow(input).run(input);

    assertThat(result.status()).isEqualTo(QueryStatus.COMPLETED);
    assertThat(result.outcomes().get(2).error())
        .isEqualTo("cancelled: a quorum of 2 answers was reached");
    assertThat(harness.log.of(StreamCall.class))
        .extracting(StreamCall::agent)
        .doesNotContain("mock/gamma · round 2")
        .contains(ALPHA_2, CRITIC_2);
    assertThat(harness.log.of(StreamCall.class).getLast().task().debate().answers())
        .containsExactly(ALPHA_2, CRITIC_2);
  }

  @Test
  void withOneAnswerLeftTheRoundsStopAndTheSynthesisUsesTheLastAnswers() {
    harness.agents.on("critic", WorkflowFakes::unknownModel);
    ChatQueryInput input =
        WorkflowHarness.input(UUID.randomUUID(), QueryPolicy.debate(3, null), ALPHA, BETA);

    ChatQueryResult result = harness.newWorkflow(input).run(input);

    assertThat(result.status()).isEqualTo(QueryStatus.COMPLETED);
    assertThat(harness.log.of(StreamCall.class))
        .extracting(StreamCall::agent)
        .containsExactlyInAnyOrder("mock/alpha", "critic", DebateNames.SYNTHESIS);
    assertThat(harness.log.of(StreamCall.class).getLast().task().debate())
        .isEqualTo(
            new AgentTask.Debate(1, DebateNames.SYNTHESIS, null, List.of("mock/alpha"), true));
  }

  @Test
  void aFailedSynthesisLeavesTheQueryPartial() {
    harness.agents.on(DebateNames.SYNTHESIS, WorkflowFakes::unknownModel);
    ChatQueryInput input =
        WorkflowHarness.input(UUID.randomUUID(), QueryPolicy.debate(2, null), ALPHA, BETA);

    ChatQueryResult result = harness.newWorkflow(input).run(input);

    assertThat(result.status()).isEqualTo(QueryStatus.PARTIAL);
    assertThat(result.outcomes().getLast().status()).isEqualTo(ResponseStatus.FAILED);
    assertThat(harness.log.of(FinishQuery.class).getLast().status()).isEqualTo(QueryStatus.PARTIAL);
  }

  @Test
  void whenNoAgentAnswersTheFirstRoundTheDebateFailsWithoutASynthesis() {
    harness
        .agents
        .on("mock/alpha", WorkflowFakes::unknownModel)
        .on("critic", WorkflowFakes::unknownModel);
    ChatQueryInput input =
        WorkflowHarness.input(UUID.randomUUID(), QueryPolicy.debate(2, null), ALPHA, BETA);

    ChatQueryResult result = harness.newWorkflow(input).run(input);

    assertThat(result.status()).isEqualTo(QueryStatus.FAILED);
    assertThat(harness.log.of(StreamCall.class)).hasSize(2);
    assertThat(harness.log.of(Rank.class)).isEmpty();
  }

  @Test
  void cancellingTheQueryDuringRoundTwoStopsItAndStartsNothingMore() {
    harness
        .agents
        .on(ALPHA_2, WorkflowFakes::streamsUntilCancelled)
        .on(CRITIC_2, WorkflowFakes::streamsUntilCancelled);
    ChatQueryInput input =
        WorkflowHarness.input(UUID.randomUUID(), QueryPolicy.debate(3, null), ALPHA, BETA);
    ChatQueryWorkflow workflow = harness.newWorkflow(input);
    WorkflowClient.start(workflow::run, input);
    awaitStreaming(ALPHA_2);
    awaitStreaming(CRITIC_2);

    workflow.cancel(null);
    ChatQueryResult result = WorkflowStub.fromTyped(workflow).getResult(ChatQueryResult.class);

    assertThat(result.status()).isEqualTo(QueryStatus.CANCELLED);
    assertThat(result.outcomes())
        .extracting(AgentOutcome::agent, AgentOutcome::status)
        .containsExactly(
            tuple("mock/alpha", ResponseStatus.COMPLETED),
            tuple("critic", ResponseStatus.COMPLETED),
            tuple(ALPHA_2, ResponseStatus.CANCELLED),
            tuple(CRITIC_2, ResponseStatus.CANCELLED));
    assertThat(harness.log.of(StreamCall.class))
        .extracting(StreamCall::agent)
        .doesNotContain(ALPHA_3, CRITIC_3, DebateNames.SYNTHESIS);
    assertThat(harness.log.of(FinishQuery.class).getLast().status())
        .isEqualTo(QueryStatus.CANCELLED);
  }

  @Test
  void theDeadlineCutsOffTheRoundItFallsInAndNoSynthesisStartsAfterIt() {
    // Between attempts no activity holds the test server's clock: the 60 s are skipped.
    harness
        .agents
        .on(ALPHA_2, WorkflowFakes::rateLimitedForTenMinutes)
        .on(CRITIC_2, WorkflowFakes::rateLimitedForTenMinutes);
    ChatQueryInput input =
        WorkflowHarness.input(
            UUID.randomUUID(),
            new QueryPolicy(60, null, null, QueryPolicy.DEBATE, 3, "mock/alpha"),
            ALPHA,
            BETA);

    ChatQueryResult result = harness.newWorkflow(input).run(input);

    // Round 1 made it in time; round 2 was cut off at the deadline; nothing started after it.
    assertThat(result.status()).isEqualTo(QueryStatus.PARTIAL);
    assertThat(result.outcomes())
        .extracting(AgentOutcome::agent, AgentOutcome::status)
        .containsExactly(
            tuple("mock/alpha", ResponseStatus.COMPLETED),
            tuple("critic", ResponseStatus.COMPLETED),
            tuple(ALPHA_2, ResponseStatus.CANCELLED),
            tuple(CRITIC_2, ResponseStatus.CANCELLED));
    assertThat(result.outcomes().get(2).error()).contains("deadline of 60 s");
    assertThat(harness.log.of(StreamCall.class))
        .extracting(StreamCall::agent)
        .doesNotContain(ALPHA_3, CRITIC_3, DebateNames.SYNTHESIS);
    assertThat(harness.log.of(RecordCancelled.class))
        .extracting(c -> c.task().agent().name())
        .containsExactlyInAnyOrder(ALPHA_2, CRITIC_2);
    // The first round, the last one with answers, is ranked.
    assertThat(harness.log.of(Rank.class))
        .singleElement()
        .satisfies(r -> assertThat(r.task().agents()).containsExactly("mock/alpha", "critic"));
  }

  @Test
  void aDeadlineThatDoesNotFireLeavesTheDebateAsWithoutOne() {
    ChatQueryInput input =
        WorkflowHarness.input(
            UUID.randomUUID(),
            new QueryPolicy(600, null, null, QueryPolicy.DEBATE, 2, "mock/alpha"),
            ALPHA,
            BETA);

    ChatQueryResult result = harness.newWorkflow(input).run(input);

    assertThat(result.status()).isEqualTo(QueryStatus.COMPLETED);
    assertThat(result.outcomes()).hasSize(5);
    assertThat(result.outcomes()).allMatch(o -> o.status() == ResponseStatus.COMPLETED);
  }

  @Test
  void cancellingOneAgentByItsNameStopsTheRoundItIsAnswering() {
    harness.agents.on(CRITIC_2, WorkflowFakes::streamsUntilCancelled);
    ChatQueryInput input =
        WorkflowHarness.input(UUID.randomUUID(), QueryPolicy.debate(3, null), ALPHA, BETA);
    ChatQueryWorkflow workflow = harness.newWorkflow(input);
    WorkflowClient.start(workflow::run, input);
    awaitStreaming(CRITIC_2);

    workflow.cancel("critic");
    ChatQueryResult result = WorkflowStub.fromTyped(workflow).getResult(ChatQueryResult.class);

    // The critic is out; alone, alpha has nobody to debate, so the synthesis follows round 2.
    assertThat(result.status()).isEqualTo(QueryStatus.COMPLETED);
    assertThat(harness.log.of(RecordCancelled.class))
        .extracting(c -> c.task().agent().name())
        .containsExactly(CRITIC_2);
    assertThat(harness.log.of(StreamCall.class))
        .extracting(StreamCall::agent)
        .doesNotContain(ALPHA_3, CRITIC_3);
    assertThat(harness.log.of(StreamCall.class).getLast().task().debate().answers())
        .containsExactly(ALPHA_2);
  }

  @Test
  void theAnswerModeRecordsNoDebateMarker() {
    ChatQueryInput input =
        WorkflowHarness.input(
            UUID.randomUUID(),
            new QueryPolicy(null, null, null, QueryPolicy.ANSWER, null, null),
            ALPHA,
            BETA);

    ChatQueryResult result = harness.newWorkflow(input).run(input);

    assertThat(result.status()).isEqualTo(QueryStatus.COMPLETED);
    assertThat(harness.log.of(StreamCall.class)).hasSize(2);
    // Only the ranking's, the local ranking's and the lean path's version markers, as for a query
    // without a policy.
    assertThat(harness.versionChanges(input.queryId()))
        .containsExactly(
            ChatQueryWorkflowImpl.LEAN_CHANGE,
            "rank-answers",
            ChatQueryWorkflowImpl.LOCAL_RANKING_CHANGE);
  }

  @Test
  void aDebateIsCompletedByItsSynthesisAndOtherwiseByWhatIsLeft() {
    var done = new AgentOutcome("a", ResponseStatus.COMPLETED, 1, null, 1, null);
    var failed = new AgentOutcome("b", ResponseStatus.FAILED, 0, null, 0, "x");
    var synthesis = new AgentOutcome("synthesis", ResponseStatus.COMPLETED, 1, null, 1, null);
    var noSynthesis = new AgentOutcome("synthesis", ResponseStatus.FAILED, 0, null, 0, "x");
    assertThat(ChatQueryWorkflowImpl.debateStatus(List.of(done, synthesis), synthesis, false))
        .isEqualTo(QueryStatus.COMPLETED);
    assertThat(ChatQueryWorkflowImpl.debateStatus(List.of(done, synthesis), synthesis, true))
        .isEqualTo(QueryStatus.COMPLETED);
    assertThat(ChatQueryWorkflowImpl.debateStatus(List.of(done, noSynthesis), noSynthesis, false))
        .isEqualTo(QueryStatus.PARTIAL);
    assertThat(ChatQueryWorkflowImpl.debateStatus(List.of(done), null, true))
        .isEqualTo(QueryStatus.CANCELLED);
    assertThat(ChatQueryWorkflowImpl.debateStatus(List.of(failed), null, false))
        .isEqualTo(QueryStatus.FAILED);
  }

  @Test
  void roundNamesMapBackToTheirAgent() {
    assertThat(DebateNames.round("critic", 1)).isEqualTo("critic");
    assertThat(DebateNames.round("critic", 2)).isEqualTo(CRITIC_2);
    assertThat(DebateNames.agentOf(CRITIC_2)).isEqualTo("critic");
    assertThat(DebateNames.agentOf("critic")).isEqualTo("critic");
    assertThat(DebateNames.agentOf("critic · round x")).isEqualTo("critic · round x");
    assertThat(DebateNames.reserved("synthesis")).isTrue();
    assertThat(DebateNames.reserved("a · round 4")).isTrue();
    assertThat(DebateNames.reserved("a round 4")).isFalse();
  }

  private static AgentTask task(List<StreamCall> streams, String agent) {
    return streams.stream().filter(c -> c.agent().equals(agent)).findFirst().orElseThrow().task();
  }

  private void awaitStreaming(String agent) {
    org.awaitility.Awaitility.await()
        .atMost(Duration.ofSeconds(20))
        .until(
            () -> harness.log.of(StreamCall.class).stream().anyMatch(c -> c.agent().equals(agent)));
  }
}
