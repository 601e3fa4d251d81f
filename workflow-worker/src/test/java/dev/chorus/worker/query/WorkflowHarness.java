package dev.chorus.worker.query;

import static java.nio.charset.StandardCharsets.UTF_8;

import dev.chorus.model.agent.AgentSpec;
import dev.chorus.model.api.QueryStatus;
import dev.chorus.model.workflow.ChatQueryInput;
import dev.chorus.model.workflow.ChatQueryWorkflow;
import dev.chorus.model.workflow.ChorusSearchAttributes;
import dev.chorus.model.workflow.QueryPolicy;
import dev.chorus.model.workflow.TaskQueues;
import dev.chorus.worker.query.WorkflowFakes.CallLog;
import dev.chorus.worker.query.WorkflowFakes.FakeAgentStream;
import dev.chorus.worker.query.WorkflowFakes.FakeLifecycle;
import dev.chorus.worker.query.WorkflowFakes.FakeRanking;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowOptions;
import io.temporal.common.SearchAttributeKey;
import io.temporal.common.SearchAttributes;
import io.temporal.testing.TestWorkflowEnvironment;
import io.temporal.worker.Worker;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;

/**
 * An in-memory, time-skipping Temporal with the real {@link ChatQueryWorkflowImpl} on the queries
 * task queue and hand-written activity fakes: lifecycle on {@link TaskQueues#QUERIES}, streaming on
 * the provider queues {@code mock} and {@code other}.
 */
final class WorkflowHarness implements AutoCloseable {
  static final String OTHER_PROVIDER = "other";
  static final List<String> PROVIDERS = List.of("mock", OTHER_PROVIDER);

  static final AgentSpec ALPHA = new AgentSpec("mock", "alpha", "mock/alpha", null, null, null);
  static final AgentSpec BETA =
      new AgentSpec(OTHER_PROVIDER, "beta", "critic", "Be brief.", 0.2, 256);
  static final AgentSpec GAMMA = new AgentSpec("mock", "gamma", "mock/gamma", null, null, null);

  final TestWorkflowEnvironment env;
  final CallLog log = new CallLog();
  final FakeLifecycle lifecycle = new FakeLifecycle(log);
  final FakeRanking ranking = new FakeRanking(log);
  final FakeAgentStream agents = new FakeAgentStream(log);

  WorkflowHarness() {
    env = TestWorkflowEnvironment.newInstance();
    for (SearchAttributeKey<?> key :
        List.of(
            ChorusSearchAttributes.USER_ID,
            ChorusSearchAttributes.CONVERSATION_ID,
            ChorusSearchAttributes.PROVIDERS,
            ChorusSearchAttributes.STATUS)) {
      env.registerSearchAttribute(key.getName(), key.getValueType());
    }
    Worker queries = env.newWorker(TaskQueues.QUERIES);
    queries.registerWorkflowImplementationTypes(ChatQueryWorkflowImpl.class);
    queries.registerActivitiesImplementations(lifecycle, ranking);
    for (String provider : PROVIDERS) {
      env.newWorker(TaskQueues.provider(provider)).registerActivitiesImplementations(agents);
    }
    env.start();
  }

  WorkflowClient client() {
    return env.getWorkflowClient();
  }

  static ChatQueryInput input(UUID queryId, AgentSpec... agents) {
    return input(queryId, null, agents);
  }

  static ChatQueryInput input(UUID queryId, QueryPolicy policy, AgentSpec... agents) {
    return new ChatQueryInput(
        queryId,
        UUID.nameUUIDFromBytes(("conversation:" + queryId).getBytes(UTF_8)),
        UUID.nameUUIDFromBytes(("user:" + queryId).getBytes(UTF_8)),
        UUID.nameUUIDFromBytes(("message:" + queryId).getBytes(UTF_8)),
        List.of(agents),
        policy);
  }

  /** {@code agent} with {@code fallbacks} ({@code provider/model} each), in order. */
  static AgentSpec withFallbacks(AgentSpec agent, String... fallbacks) {
    return new AgentSpec(
        agent.provider(),
        agent.model(),
        agent.name(),
        agent.systemPrompt(),
        agent.temperature(),
        agent.maxTokens(),
        java.util.Arrays.stream(fallbacks)
            .map(f ->
                new AgentSpec.Fallback(
                    f.substring(0, f.indexOf('/')), f.substring(f.indexOf('/') + 1)))
            .toList());
  }

  /** A stub started the way api-server starts it: id {@code query-<id>} and search attributes. */
  ChatQueryWorkflow newWorkflow(ChatQueryInput input) {
    List<String> providers = input.agents().stream().map(AgentSpec::provider).distinct().toList();
    return client()
        .newWorkflowStub(
            ChatQueryWorkflow.class,
            WorkflowOptions.newBuilder()
                .setTaskQueue(TaskQueues.QUERIES)
                .setWorkflowId(ChatQueryInput.workflowId(input.queryId()))
                .setTypedSearchAttributes(
                    SearchAttributes.newBuilder()
                        .set(ChorusSearchAttributes.USER_ID, input.userId().toString())
                        .set(
                            ChorusSearchAttributes.CONVERSATION_ID,
                            input.conversationId().toString())
                        .set(ChorusSearchAttributes.PROVIDERS, providers)
                        .set(ChorusSearchAttributes.STATUS, QueryStatus.RUNNING.name())
                        .build())
                .build());
  }

  /** The change ids of the version markers in the query's workflow history, in order. */
  List<String> versionChanges(UUID queryId) {
    return client().fetchHistory(ChatQueryInput.workflowId(queryId)).getEvents().stream()
        .filter(e -> e.hasMarkerRecordedEventAttributes())
        .map(e -> e.getMarkerRecordedEventAttributes())
        .filter(marker -> marker.getMarkerName().equals("Version"))
        .map(marker ->
            marker
                .getDetailsMap()
                .get("changeId")
                .getPayloads(0)
                .getData()
                .toStringUtf8()
                .replace("\"", ""))
        .toList();
  }

  /**
   * Writes the query's workflow history to {@code src/test/resources/<resource>}, for a history
   * generator, and only when run with {@code -Dchorus.regenerate=true}: a test run must never
   * rewrite the recorded histories.
   */
  void saveHistory(UUID queryId, String resource) throws IOException {
    if (!Boolean.getBoolean("chorus.regenerate")) {
      return;
    }
    Path target =
        Path.of(System.getProperty("basedir", "")).resolve("src/test/resources").resolve(resource);
    String json = client().fetchHistory(ChatQueryInput.workflowId(queryId)).toJson(true);
    Files.createDirectories(target.getParent());
    Files.writeString(target, json + "\n", UTF_8);
    System.out.println("wrote " + target.toAbsolutePath());
  }

  @Override
  public void close() {
    env.close();
  }
}
