package dev.chorus.api.query;

import dev.chorus.api.stream.StreamProperties;
import dev.chorus.model.agent.AgentSpec;
import dev.chorus.model.api.QueryStatus;
import dev.chorus.model.stream.RedisKeys;
import dev.chorus.model.workflow.ChatQueryInput;
import dev.chorus.model.workflow.ChatQueryWorkflow;
import dev.chorus.model.workflow.ChorusSearchAttributes;
import dev.chorus.model.workflow.TaskQueues;
import io.temporal.api.enums.v1.WorkflowIdReusePolicy;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowExecutionAlreadyStarted;
import io.temporal.client.WorkflowNotFoundException;
import io.temporal.client.WorkflowOptions;
import io.temporal.common.SearchAttributes;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.data.redis.core.StringRedisTemplate;
import org.springframework.stereotype.Component;

/** Starts query workflows. A start that already happened is a no-op, so callers may repeat it. */
@Component
public class WorkflowLauncher {
  private static final Logger log = LoggerFactory.getLogger(WorkflowLauncher.class);
  private final WorkflowClient client;
  private final StringRedisTemplate redis;
  private final RedisKeys keys;

  WorkflowLauncher(WorkflowClient client, StringRedisTemplate redis, StreamProperties properties) {
    this.client = client;
    this.redis = redis;
    this.keys = new RedisKeys(properties.keyPrefix());
  }

  /** Returns true when the workflow runs (started now or before); false when Temporal refused. */
  public boolean start(ChatQueryInput input) {
    var providers = input.agents().stream().map(AgentSpec::provider).distinct().sorted().toList();
    Map<String, Object> memo = new LinkedHashMap<>();
    memo.put("conversationId", input.conversationId().toString());
    memo.put("agents", input.agents().stream().map(AgentSpec::name).toList());
    if (input.policy() != null) {
      memo.put("policy", input.policy());
    }
    var options =
        WorkflowOptions.newBuilder()
            .setWorkflowId(ChatQueryInput.workflowId(input.queryId()))
            .setTaskQueue(TaskQueues.QUERIES)
            .setWorkflowIdReusePolicy(
                WorkflowIdReusePolicy.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE)
            .setTypedSearchAttributes(
                SearchAttributes.newBuilder()
                    .set(ChorusSearchAttributes.USER_ID, input.userId().toString())
                    .set(ChorusSearchAttributes.CONVERSATION_ID, input.conversationId().toString())
                    .set(ChorusSearchAttributes.PROVIDERS, providers)
                    // Running from Temporal's view once started: set here, the workflow does not
                    // spend a search-attribute upsert on it (PENDING stays PostgreSQL's state).
                    .set(ChorusSearchAttributes.STATUS, QueryStatus.RUNNING.name())
                    .build())
            .setMemo(memo)
            .setStaticSummary(
                "Query of " + input.agents().size() + " agent(s): " + String.join(", ", providers))
            .build();
    try {
      WorkflowClient.start(client.newWorkflowStub(ChatQueryWorkflow.class, options)::run, input);
      return true;
    } catch (WorkflowExecutionAlreadyStarted e) {
      return true;
    } catch (RuntimeException e) {
      // The query is safe in PostgreSQL as PENDING; the sweeper starts it once Temporal answers.
      log.warn("could not start workflow for query {}: {}", input.queryId(), e.toString());
      return false;
    }
  }

  /**
   * Signals the query's workflow to cancel {@code agent} (null: everything). Returns false when no
   * such workflow runs (not started yet, or already closed). Once the signal is recorded, tells the
   * workers ({@link RedisKeys#cancelChannel()}), so the streaming activities ask Temporal at once
   * instead of at their next regular heartbeat.
   */
  public boolean cancel(UUID queryId, String agent) {
    try {
      client
          .newWorkflowStub(ChatQueryWorkflow.class, ChatQueryInput.workflowId(queryId))
          .cancel(agent);
    } catch (WorkflowNotFoundException e) {
      return false;
    }
    try {
      redis.convertAndSend(keys.cancelChannel(), queryId.toString());
    } catch (RuntimeException e) {
      // Only a hint: the activities still learn of the cancel at their next heartbeat.
      log.warn("could not announce the cancel of query {}: {}", queryId, e.toString());
    }
    return true;
  }
}
