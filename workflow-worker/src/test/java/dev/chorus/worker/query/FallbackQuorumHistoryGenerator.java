package dev.chorus.worker.query;

import static org.assertj.core.api.Assertions.assertThat;

import dev.chorus.model.api.QueryStatus;
import dev.chorus.model.api.ResponseStatus;
import dev.chorus.model.workflow.AgentOutcome;
import dev.chorus.model.workflow.ChatQueryInput;
import dev.chorus.model.workflow.ChatQueryResult;
import dev.chorus.model.workflow.QueryPolicy;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * Regenerates {@code src/test/resources/histories/fallback-quorum-partial.json}: a query whose
 * policy has a deadline (not reached) and a quorum of 2 of 3, where the first agent's model fails
 * for good and its fallback answers, and the third agent is cut off by the quorum. It records the
 * commands added with {@code Workflow.getVersion("agent-fallback")} and {@code ("query-policy")},
 * which {@link ChatQueryWorkflowReplayTest} replays. Not a test (see {@link
 * TwoAgentsHistoryGenerator} for how to run a generator and when to regenerate):
 *
 * <pre>
 * mvn -B -pl shared-model,workflow-worker -am test -Dchorus.regenerate=true \
 *     -Dtest=FallbackQuorumHistoryGenerator -Dsurefire.failIfNoSpecifiedTests=false
 * </pre>
 */
class FallbackQuorumHistoryGenerator {
  static final String RESOURCE = "histories/fallback-quorum-partial.json";
  static final UUID QUERY_ID = UUID.fromString("00000000-0000-4000-8000-000000000002");

  @Test
  void regenerate() throws IOException {
    Path target =
        Path.of(System.getProperty("basedir", "")).resolve("src/test/resources").resolve(RESOURCE);
    try (WorkflowHarness harness = new WorkflowHarness()) {
      harness
          .agents
          .onModel("alpha", WorkflowFakes::unknownModel)
          .on("mock/gamma", WorkflowFakes::streamsUntilCancelled);
      ChatQueryInput input =
          WorkflowHarness.input(
              QUERY_ID,
              new QueryPolicy(600, 2, null),
              WorkflowHarness.withFallbacks(WorkflowHarness.ALPHA, "other/beta-2"),
              WorkflowHarness.BETA,
              WorkflowHarness.GAMMA);
      ChatQueryResult result = harness.newWorkflow(input).run(input);
      assertThat(result.status()).isEqualTo(QueryStatus.PARTIAL);
      assertThat(result.outcomes())
          .extracting(AgentOutcome::status)
          .containsExactly(
              ResponseStatus.COMPLETED, ResponseStatus.COMPLETED, ResponseStatus.CANCELLED);
      if (!Boolean.getBoolean("chorus.regenerate")) {
        return; // a test run must never rewrite the recorded histories
      }
      String json = harness.client().fetchHistory(ChatQueryInput.workflowId(QUERY_ID)).toJson(true);
      Files.createDirectories(target.getParent());
      Files.writeString(target, json + "\n", StandardCharsets.UTF_8);
    }
    System.out.println("wrote " + target.toAbsolutePath());
  }
}
