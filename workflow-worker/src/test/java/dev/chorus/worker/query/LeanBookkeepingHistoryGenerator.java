package dev.chorus.worker.query;

import static org.assertj.core.api.Assertions.assertThat;

import dev.chorus.model.api.QueryStatus;
import dev.chorus.model.api.ResponseStatus;
import dev.chorus.model.workflow.AgentOutcome;
import dev.chorus.model.workflow.ChatQueryInput;
import dev.chorus.model.workflow.ChatQueryResult;
import java.io.IOException;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * Regenerates {@code src/test/resources/histories/lean-partial.json}: a query of two agents on the
 * path added with {@code Workflow.getVersion("lean-bookkeeping")}, where the first answers and the
 * second's model fails for good, so its bookkeeping (mark running, record the failure, finish) runs
 * as local activities and the answer is ranked; {@link ChatQueryWorkflowReplayTest} replays it. Not
 * a test (see {@link TwoAgentsHistoryGenerator} for how to run a generator and when to regenerate):
 *
 * <pre>
 * mvn -B -pl shared-model,workflow-worker -am test -Dchorus.regenerate=true \
 *     -Dtest=LeanBookkeepingHistoryGenerator -Dsurefire.failIfNoSpecifiedTests=false
 * </pre>
 */
class LeanBookkeepingHistoryGenerator {
  static final String RESOURCE = "histories/lean-partial.json";
  static final UUID QUERY_ID = UUID.fromString("00000000-0000-4000-8000-000000000005");

  @Test
  void regenerate() throws IOException {
    try (WorkflowHarness harness = new WorkflowHarness()) {
      harness.agents.on("critic", WorkflowFakes::unknownModel);
      ChatQueryInput input =
          WorkflowHarness.input(QUERY_ID, WorkflowHarness.ALPHA, WorkflowHarness.BETA);
      ChatQueryResult result = harness.newWorkflow(input).run(input);
      assertThat(result.status()).isEqualTo(QueryStatus.PARTIAL);
      assertThat(result.outcomes())
          .extracting(AgentOutcome::status)
          .containsExactly(ResponseStatus.COMPLETED, ResponseStatus.FAILED);
      harness.saveHistory(QUERY_ID, RESOURCE);
    }
  }
}
