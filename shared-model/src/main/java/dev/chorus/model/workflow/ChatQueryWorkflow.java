package dev.chorus.model.workflow;

import io.temporal.workflow.WorkflowInterface;
import io.temporal.workflow.WorkflowMethod;

/** One user message asked of several agents; workflow id {@code query-<queryId>}. */
@WorkflowInterface
public interface ChatQueryWorkflow {
  @WorkflowMethod
  ChatQueryResult run(ChatQueryInput input);
}
