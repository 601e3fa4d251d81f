package dev.chorus.worker.query;

import static org.assertj.core.api.Assertions.assertThat;

import dev.chorus.model.api.QueryStatus;
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
 * Regenerates {@code src/test/resources/histories/debate-completed.json}: a debate of two agents
 * over three rounds whose synthesis the second agent's model writes, recorded with {@code
 * Workflow.getVersion("debate")}; {@link ChatQueryWorkflowReplayTest} replays it. Not a test: its
 * name does not match surefire's includes — and although {@code -Dtest='*Debate*'} matches it, it
 * only writes the file when {@code -Dchorus.regenerate=true} is set (see {@link
 * TwoAgentsHistoryGenerator} for when to regenerate):
 *
 * <pre>
 * mvn -B -pl shared-model,workflow-worker -am test -Dchorus.regenerate=true \
 *     -Dtest=DebateHistoryGenerator -Dsurefire.failIfNoSpecifiedTests=false
 * </pre>
 */
class DebateHistoryGenerator {
  static final String RESOURCE = "histories/debate-completed.json";
  static final UUID QUERY_ID = UUID.fromString("00000000-0000-4000-8000-000000000003");

  /** A debate whose 60 s deadline passes in round 2: round 2 cut off, no synthesis, PARTIAL. */
  static final String DEADLINE_RESOURCE = "histories/debate-deadline.json";

  static final UUID DEADLINE_QUERY_ID = UUID.fromString("00000000-0000-4000-8000-000000000004");

  @Test
  void regenerate() throws IOException {
    Path target =
        Path.of(System.getProperty("basedir", "")).resolve("src/test/resources").resolve(RESOURCE);
    try (WorkflowHarness harness = new WorkflowHarness()) {
      ChatQueryInput input =
          WorkflowHarness.input(
              QUERY_ID,
              new QueryPolicy(null, null, null, QueryPolicy.DEBATE, 3, "critic"),
              WorkflowHarness.ALPHA,
              WorkflowHarness.BETA);
      ChatQueryResult result = harness.newWorkflow(input).run(input);
      assertThat(result.status()).isEqualTo(QueryStatus.COMPLETED);
      assertThat(result.outcomes()).hasSize(7);
      write(harness, QUERY_ID, target);
    }
  }

  @Test
  void regenerateDeadline() throws IOException {
    Path target =
        Path.of(System.getProperty("basedir", ""))
            .resolve("src/test/resources")
            .resolve(DEADLINE_RESOURCE);
    try (WorkflowHarness harness = new WorkflowHarness()) {
      harness
          .agents
          .on("mock/alpha · round 2", WorkflowFakes::rateLimitedForTenMinutes)
          .on("critic · round 2", WorkflowFakes::rateLimitedForTenMinutes);
      ChatQueryInput input =
          WorkflowHarness.input(
              DEADLINE_QUERY_ID,
              new QueryPolicy(60, null, null, QueryPolicy.DEBATE, 3, "critic"),
              WorkflowHarness.ALPHA,
              WorkflowHarness.BETA);
      ChatQueryResult result = harness.newWorkflow(input).run(input);
      assertThat(result.status()).isEqualTo(QueryStatus.PARTIAL);
      assertThat(result.outcomes()).hasSize(4);
      write(harness, DEADLINE_QUERY_ID, target);
    }
  }

  private static void write(WorkflowHarness harness, UUID queryId, Path target) throws IOException {
    if (!Boolean.getBoolean("chorus.regenerate")) {
      return;
    }
    String json = harness.client().fetchHistory(ChatQueryInput.workflowId(queryId)).toJson(true);
    Files.createDirectories(target.getParent());
    Files.writeString(target, json + "\n", StandardCharsets.UTF_8);
    System.out.println("wrote " + target.toAbsolutePath());
  }
}
