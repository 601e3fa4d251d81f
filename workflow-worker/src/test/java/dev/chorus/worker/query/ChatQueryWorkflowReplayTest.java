package dev.chorus.worker.query;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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
    assertThat(
            history.getEvents().stream()
                .filter(e -> e.hasActivityTaskScheduledEventAttributes())
                .map(e -> e.getActivityTaskScheduledEventAttributes().getActivityType().getName())
                .toList())
        .containsExactly("MarkRunning", "StreamResponse", "StreamResponse", "FinishQuery");

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

  private static WorkflowExecutionHistory load(String resource) throws IOException {
    try (InputStream in =
        ChatQueryWorkflowReplayTest.class.getClassLoader().getResourceAsStream(resource)) {
      assertThat(in).as("test resource %s", resource).isNotNull();
      return WorkflowExecutionHistory.fromJson(
          new String(in.readAllBytes(), StandardCharsets.UTF_8));
    }
  }
}
