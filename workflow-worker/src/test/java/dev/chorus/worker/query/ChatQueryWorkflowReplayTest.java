package dev.chorus.worker.query;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.chorus.model.api.QueryStatus;
import dev.chorus.model.workflow.ChatQueryInput;
import dev.chorus.model.workflow.ChatQueryResult;
import dev.chorus.model.workflow.ChatQueryWorkflow;
import io.temporal.api.enums.v1.EventType;
import io.temporal.common.WorkflowExecutionHistory;
import io.temporal.testing.WorkflowReplayer;
import io.temporal.workflow.Workflow;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Replays recorded histories against the current {@link ChatQueryWorkflowImpl}: a change to the
 * workflow's commands that is not guarded by {@code Workflow.getVersion} breaks queries that are
 * running while a new worker is deployed, and fails here. The histories are only read; see {@link
 * TwoAgentsHistoryGenerator} to record one.
 */
class ChatQueryWorkflowReplayTest {

  @Test
  void twoAgentsCompletedHistoryReplays() throws Exception {
    WorkflowExecutionHistory history = load(TwoAgentsHistoryGenerator.RESOURCE);

    // The file is what it claims to be: a completed run that scheduled two streaming activities.
    List<EventType> types =
        history.getEvents().stream().map(e -> e.getEventType()).distinct().toList();
    assertThat(types).contains(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED);
    assertThat(scheduledActivities(history))
        .containsExactly("MarkRunning", "StreamResponse", "StreamResponse", "FinishQuery");

    WorkflowReplayer.replayWorkflowExecution(history, ChatQueryWorkflowImpl.class);
  }

  /**
   * Fallback, deadline and quorum commands, added behind {@code Workflow.getVersion}: the agent's
   * model fails for good and a fallback answers on another provider's queue; the quorum of 2 cuts
   * the third agent off and cancels the deadline timer.
   */
  @Test
  void fallbackAndQuorumHistoryReplays() throws Exception {
    WorkflowExecutionHistory history = load(FallbackQuorumHistoryGenerator.RESOURCE);

    assertThat(markerDetails(history))
        .anySatisfy(details -> assertThat(details).contains(ChatQueryWorkflowImpl.FALLBACK_CHANGE))
        .anySatisfy(details -> assertThat(details).contains(ChatQueryWorkflowImpl.POLICY_CHANGE));
    assertThat(
            scheduledActivities(history).stream()
                .filter(type -> type.equals("StreamResponse"))
                .count())
        .isEqualTo(4);
    assertThat(
            history.getEvents().stream()
                .filter(e -> e.hasActivityTaskScheduledEventAttributes())
                .map(e -> e.getActivityTaskScheduledEventAttributes().getTaskQueue().getName())
                .toList())
        .containsSubsequence("chorus-provider-mock", "chorus-provider-other");
    List<EventType> types = history.getEvents().stream().map(e -> e.getEventType()).toList();
    assertThat(types)
        .contains(
            EventType.EVENT_TYPE_TIMER_STARTED,
            EventType.EVENT_TYPE_TIMER_CANCELED,
            EventType.EVENT_TYPE_ACTIVITY_TASK_CANCEL_REQUESTED,
            EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED);

    WorkflowReplayer.replayWorkflowExecution(history, ChatQueryWorkflowImpl.class);
  }

  /**
   * A debate, added behind {@code Workflow.getVersion("debate")}: three rounds of two agents, each
   * round's agents under their round names, then the synthesis on the synthesizer's queue.
   */
  @Test
  void debateHistoryReplays() throws Exception {
    WorkflowExecutionHistory history = load(DebateHistoryGenerator.RESOURCE);

    assertThat(markerDetails(history))
        .anySatisfy(details -> assertThat(details).contains(ChatQueryWorkflowImpl.DEBATE_CHANGE));
    assertThat(streamSummaries(history))
        .containsExactly(
            "\"mock/alpha\"",
            "\"critic\"",
            "\"mock/alpha · round 2\"",
            "\"critic · round 2\"",
            "\"mock/alpha · round 3\"",
            "\"critic · round 3\"",
            "\"synthesis\"");
    assertThat(history.getEvents().stream().map(e -> e.getEventType()).toList())
        .contains(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED);

    WorkflowReplayer.replayWorkflowExecution(history, ChatQueryWorkflowImpl.class);
  }

  /**
   * A debate whose deadline passed in round 2: the deadline timer outlives round 1, round 2 is cut
   * off and nothing starts after it.
   */
  @Test
  void debateDeadlineHistoryReplays() throws Exception {
    WorkflowExecutionHistory history = load(DebateHistoryGenerator.DEADLINE_RESOURCE);

    assertThat(streamSummaries(history))
        .containsExactly(
            "\"mock/alpha\"", "\"critic\"", "\"mock/alpha · round 2\"", "\"critic · round 2\"");
    assertThat(history.getEvents().stream().map(e -> e.getEventType()).toList())
        .contains(
            EventType.EVENT_TYPE_TIMER_FIRED, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED);

    WorkflowReplayer.replayWorkflowExecution(history, ChatQueryWorkflowImpl.class);
  }

  /**
   * The lean path, added behind {@code Workflow.getVersion("lean-bookkeeping")}: marking the query
   * running, recording a failed agent and finishing run as local activities (markers, no activity
   * tasks), and no RUNNING upsert; only the streams and the ranking are activity tasks.
   */
  @Test
  void leanBookkeepingHistoryReplays() throws Exception {
    WorkflowExecutionHistory history = load(LeanBookkeepingHistoryGenerator.RESOURCE);

    assertThat(markerDetails(history))
        .anySatisfy(details -> assertThat(details).contains(ChatQueryWorkflowImpl.LEAN_CHANGE));
    assertThat(localActivities(history)).isEqualTo(3);
    assertThat(scheduledActivities(history))
        .containsExactly("StreamResponse", "StreamResponse", "RankAnswers");
    assertThat(
            history.getEvents().stream()
                .filter(
                    e -> e.getEventType() == EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES)
                .count())
        .isEqualTo(1);
    assertThat(history.getEvents().stream().map(e -> e.getEventType()).toList())
        .contains(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED);

    WorkflowReplayer.replayWorkflowExecution(history, ChatQueryWorkflowImpl.class);
  }

  /**
   * The local ranking, added behind {@code Workflow.getVersion("local-ranking")}: without a judge
   * the ranking is a local activity like the bookkeeping, so the stream is the only activity task
   * and the whole query takes two workflow tasks.
   */
  @Test
  void localRankingHistoryReplays() throws Exception {
    WorkflowExecutionHistory history = load(LocalRankingHistoryGenerator.RESOURCE);

    assertThat(markerDetails(history))
        .anySatisfy(
            details -> assertThat(details).contains(ChatQueryWorkflowImpl.LOCAL_RANKING_CHANGE));
    assertThat(localActivities(history)).isEqualTo(3); // markRunning, rankWithoutJudge, finishQuery
    assertThat(scheduledActivities(history)).containsExactly("StreamResponse");
    assertThat(
            history.getEvents().stream().filter(e -> e.hasWorkflowTaskCompletedEventAttributes()))
        .hasSize(2);

    WorkflowReplayer.replayWorkflowExecution(history, ChatQueryWorkflowImpl.class);
  }

  /**
   * A query started by a worker from before policies, with fallbacks and a policy in its input
   * (sent by a newer api-server, ignored by that worker), replays on this one: the new commands are
   * behind {@code Workflow.getVersion}, so the replay takes the old path.
   */
  @Test
  void aHistoryWhoseWorkerIgnoredFallbacksAndPolicyStillReplays() throws Exception {
    ObjectMapper json = new ObjectMapper();
    ObjectNode raw;
    try (InputStream in =
        getClass().getClassLoader().getResourceAsStream(TwoAgentsHistoryGenerator.RESOURCE)) {
      raw = (ObjectNode) json.readTree(in);
    }
    ObjectNode payload =
        (ObjectNode) raw.at("/events/0/workflowExecutionStartedEventAttributes/input/payloads/0");
    ObjectNode input =
        (ObjectNode) json.readTree(Base64.getDecoder().decode(payload.get("data").asText()));
    ((ObjectNode) input.at("/agents/0"))
        .set("fallbacks", json.readTree("[{\"provider\":\"other\",\"model\":\"beta-2\"}]"));
    input.set(
        "policy",
        json.readTree(
            "{\"deadlineSeconds\":30,\"quorum\":1,\"quorumAfterSeconds\":5,"
                + "\"mode\":\"debate\",\"rounds\":3,\"synthesizer\":\"critic\"}"));
    payload.put("data", Base64.getEncoder().encodeToString(json.writeValueAsBytes(input)));

    WorkflowExecutionHistory history =
        WorkflowExecutionHistory.fromJson(json.writeValueAsString(raw));
    assertThat(
            history
                .getEvents()
                .getFirst()
                .getWorkflowExecutionStartedEventAttributes()
                .getInput()
                .getPayloads(0)
                .getData()
                .toStringUtf8())
        .contains("fallbacks", "policy", "debate");

    WorkflowReplayer.replayWorkflowExecution(history, ChatQueryWorkflowImpl.class);
  }

  /** The replay check bites: a workflow that skips a command does not replay the history. */
  @Test
  void aWorkflowWithDifferentCommandsDoesNotReplay() throws Exception {
    WorkflowExecutionHistory history = load(TwoAgentsHistoryGenerator.RESOURCE);

    assertThatThrownBy(
            () -> WorkflowReplayer.replayWorkflowExecution(history, SkipsMarkRunning.class))
        .hasStackTraceContaining("NonDeterministicException");
  }

  /** What an unguarded edit could look like: the first activity call is gone. */
  public static class SkipsMarkRunning implements ChatQueryWorkflow {
    @Override
    public ChatQueryResult run(ChatQueryInput input) {
      Workflow.sleep(1);
      return new ChatQueryResult(QueryStatus.COMPLETED, List.of());
    }

    @Override
    public void cancel(String agent) {}
  }

  /** The types of the activities the history scheduled, in order (local ones are markers). */
  private static List<String> scheduledActivities(WorkflowExecutionHistory history) {
    return history.getEvents().stream()
        .filter(e -> e.hasActivityTaskScheduledEventAttributes())
        .map(e -> e.getActivityTaskScheduledEventAttributes().getActivityType().getName())
        .toList();
  }

  /** The summaries (agent or round names, as JSON) of the streaming activities, in order. */
  private static List<String> streamSummaries(WorkflowExecutionHistory history) {
    return history.getEvents().stream()
        .filter(e -> e.hasActivityTaskScheduledEventAttributes())
        .filter(e ->
            e.getActivityTaskScheduledEventAttributes()
                .getActivityType()
                .getName()
                .equals("StreamResponse"))
        .map(e -> e.getUserMetadata().getSummary().getData().toStringUtf8())
        .toList();
  }

  /** The details of every marker (version markers name their change id there). */
  private static List<String> markerDetails(WorkflowExecutionHistory history) {
    return history.getEvents().stream()
        .filter(e -> e.hasMarkerRecordedEventAttributes())
        .map(e -> e.getMarkerRecordedEventAttributes().getDetailsMap().toString())
        .toList();
  }

  /** How many local activities the history recorded. */
  private static long localActivities(WorkflowExecutionHistory history) {
    return history.getEvents().stream()
        .filter(e -> e.hasMarkerRecordedEventAttributes())
        .filter(e -> e.getMarkerRecordedEventAttributes().getMarkerName().equals("LocalActivity"))
        .count();
  }

  private static WorkflowExecutionHistory load(String resource) throws IOException {
    try (InputStream in =
        ChatQueryWorkflowReplayTest.class.getClassLoader().getResourceAsStream(resource)) {
      assertThat(in).as("test resource %s", resource).isNotNull();
      return WorkflowExecutionHistory.fromJson(
          new String(in.readAllBytes(), StandardCharsets.UTF_8));
    }
  }
}
