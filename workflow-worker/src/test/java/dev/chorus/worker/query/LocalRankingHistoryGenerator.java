package dev.chorus.worker.query;

import static org.assertj.core.api.Assertions.assertThat;

import dev.chorus.model.api.QueryStatus;
import dev.chorus.model.workflow.ChatQueryInput;
import dev.chorus.model.workflow.ChatQueryResult;
import java.io.IOException;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * Regenerates {@code src/test/resources/histories/local-ranking.json}: a one-agent query on the
 * path added with {@code Workflow.getVersion("local-ranking")}, where the worker has no judge, so
 * the ranking runs as a local activity beside marking the query running and finishing it; {@link
 * ChatQueryWorkflowReplayTest} replays it. Not a test (see {@link TwoAgentsHistoryGenerator} for
 * how to run a generator and when to regenerate):
 *
 * <pre>
 * mvn -B -pl shared-model,workflow-worker -am test -Dchorus.regenerate=true \
 *     -Dtest=LocalRankingHistoryGenerator -Dsurefire.failIfNoSpecifiedTests=false
 * </pre>
 */
class LocalRankingHistoryGenerator {
  static final String RESOURCE = "histories/local-ranking.json";
  static final UUID QUERY_ID = UUID.fromString("00000000-0000-4000-8000-000000000006");

  @Test
  void regenerate() throws IOException {
    try (WorkflowHarness harness = new WorkflowHarness()) {
      ChatQueryInput input = WorkflowHarness.input(QUERY_ID, WorkflowHarness.ALPHA);
      ChatQueryResult result = harness.newWorkflow(input).run(input);
      assertThat(result.status()).isEqualTo(QueryStatus.COMPLETED);
      harness.saveHistory(QUERY_ID, RESOURCE);
    }
  }
}
