package dev.chorus.model.workflow;

import io.temporal.workflow.SignalMethod;
import io.temporal.workflow.WorkflowInterface;
import io.temporal.workflow.WorkflowMethod;

/** One user message asked of several agents; workflow id {@code query-<queryId>}. */
@WorkflowInterface
public interface ChatQueryWorkflow {
  @WorkflowMethod
  ChatQueryResult run(ChatQueryInput input);

  /**
   * Stops one agent ({@code agent} = its name) or, when {@code agent} is null or empty, the whole
   * query. A stopped agent keeps what it streamed, marked CANCELLED.
   */
  @SignalMethod
  void cancel(String agent);
}
