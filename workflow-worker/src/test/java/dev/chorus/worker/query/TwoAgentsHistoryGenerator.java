package dev.chorus.worker.query;

import static org.assertj.core.api.Assertions.assertThat;

import dev.chorus.model.api.QueryStatus;
import dev.chorus.model.workflow.ChatQueryInput;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * Regenerates {@code src/test/resources/histories/two-agents-completed.json}, the history that
 * {@link ChatQueryWorkflowReplayTest} replays. Not a test: its name does not match surefire's
 * includes, so a normal build never runs it. Regenerate only on purpose — after a change of the
 * workflow that is guarded by {@code Workflow.getVersion} keep the old file and add a new one,
 * since the point of the recorded history is to catch replays that break running workflows:
 *
 * <pre>
 * mvn -B -pl shared-model,workflow-worker -am test -Dchorus.regenerate=true \
 *     -Dtest=TwoAgentsHistoryGenerator -Dsurefire.failIfNoSpecifiedTests=false
 * </pre>
 *
 * The run uses the same in-memory test server and fakes as {@link ChatQueryWorkflowTest}, with
 * fixed ids, so a regenerated file differs from the old one only in timestamps and the run's own
 * ids.
 */
class TwoAgentsHistoryGenerator {
  static final String RESOURCE = "histories/two-agents-completed.json";
  static final UUID QUERY_ID = UUID.fromString("00000000-0000-4000-8000-000000000001");

  @Test
  void regenerate() throws IOException {
    Path target =
        Path.of(System.getProperty("basedir", "")).resolve("src/test/resources").resolve(RESOURCE);
    try (WorkflowHarness harness = new WorkflowHarness()) {
      ChatQueryInput input =
          WorkflowHarness.input(QUERY_ID, WorkflowHarness.ALPHA, WorkflowHarness.BETA);
      assertThat(harness.newWorkflow(input).run(input).status()).isEqualTo(QueryStatus.COMPLETED);
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
