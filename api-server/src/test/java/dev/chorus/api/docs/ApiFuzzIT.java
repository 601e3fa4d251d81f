package dev.chorus.api.docs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.chorus.api.support.ApiClient;
import dev.chorus.api.support.OpenApiDoc;
import dev.chorus.api.support.Stack;
import io.temporal.client.WorkflowClient;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.test.context.ActiveProfiles;

/**
 * Schema-driven fuzzing: Schemathesis generates requests from {@code /v3/api-docs} — valid and
 * invalid — and every answer must be a non-5xx that matches its documented schema. Routes added
 * later are fuzzed without touching this test. {@code -Dchorus.fuzz.examples} and {@code
 * -Dchorus.fuzz.seed} change how many cases and which.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@ActiveProfiles("test")
class ApiFuzzIT {
  @LocalServerPort int port;
  @Autowired JdbcClient jdbc;
  @Autowired WorkflowClient workflowClient;

  @Test
  void noServerErrorsAndResponsesMatchTheDocument() throws Exception {
    Stack.require();
    String schemathesis = schemathesis();
    var api = new ApiClient(port);
    String token = api.register();
    UUID userId =
        UUID.fromString(api.call("GET", "/api/me", token, null).body().get("id").asText());

    List<String> command = new ArrayList<>();
    command.addAll(
        List.of(
            schemathesis,
            "run",
            api.base() + "/v3/api-docs",
            "--header",
            "Authorization: Bearer " + token,
            "--checks",
            "not_a_server_error,response_schema_conformance",
            "--max-examples",
            System.getProperty("chorus.fuzz.examples", "10"),
            "--seed",
            System.getProperty("chorus.fuzz.seed", "20261121"),
            // One worker: Schemathesis' coverage phase has crashed inside CPython with two threads.
            "--workers",
            "1",
            "--no-shrink",
            "--request-timeout",
            "20",
            // Logging out would revoke the token the rest of the run uses.
            "--exclude-path",
            "/api/auth/logout"));
    // An event stream stays open while its query runs: not something a request/response fuzzer
    // can judge. Its 404s and errors are covered by OwnershipIT and the route's own tests.
    for (var op : OpenApiDoc.fetch(port).operations()) {
      if (op.streams()) {
        command.addAll(List.of("--exclude-path", op.path()));
      }
    }
    Path target = Path.of("target").toAbsolutePath();
    Files.createDirectories(target);
    Path log = target.resolve("schemathesis.log");
    // Run inside target/: Schemathesis keeps a cache folder in its working directory.
    var builder =
        new ProcessBuilder(command)
            .directory(target.toFile())
            .redirectErrorStream(true)
            .redirectOutput(log.toFile());
    builder.environment().put("NO_COLOR", "1");
    builder.environment().put("SCHEMATHESIS_TELEMETRY", "false");
    Process process = builder.start();
    try {
      boolean done = process.waitFor(6, TimeUnit.MINUTES);
      String output = Files.readString(log, StandardCharsets.UTF_8);
      assertThat(done).as("schemathesis did not finish within 6 minutes:\n" + output).isTrue();
      assertThat(process.exitValue())
          .as("schemathesis found failures (" + log.toAbsolutePath() + "):\n" + output)
          .isZero();
    } finally {
      process.destroyForcibly();
      terminateQueriesOf(userId);
    }
  }

  /** The fuzzer's messages started workflows no worker here runs: end them. */
  private void terminateQueriesOf(UUID userId) {
    for (UUID id :
        jdbc.sql("SELECT id FROM queries WHERE user_id = ?")
            .param(userId)
            .query(UUID.class)
            .list()) {
      try {
        workflowClient.newUntypedWorkflowStub("query-" + id).terminate("fuzz cleanup");
      } catch (RuntimeException alreadyDone) {
        // Finished or never started.
      }
    }
  }

  /** CHORUS_SCHEMATHESIS_BIN, else the venv of the state folder that infra/stack.sh installs. */
  private static String schemathesis() {
    String configured = System.getenv("CHORUS_SCHEMATHESIS_BIN");
    List<String> candidates = new ArrayList<>();
    if (configured != null && !configured.isBlank()) {
      candidates.add(configured);
    }
    String state = System.getenv().getOrDefault("CHORUS_STATE_DIR", "../.chorus");
    candidates.add(state + "/venv/bin/schemathesis");
    for (String candidate : candidates) {
      if (new File(candidate).canExecute()) {
        return candidate;
      }
    }
    throw new AssertionError(
        "schemathesis not found (looked at "
            + candidates
            + "): run `infra/stack.sh install` (infra/test.sh does it), or set"
            + " CHORUS_SCHEMATHESIS_BIN");
  }
}
