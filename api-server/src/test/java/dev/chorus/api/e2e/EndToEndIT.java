package dev.chorus.api.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.chorus.api.support.ApiClient;
import dev.chorus.api.support.ChorusProcesses;
import dev.chorus.api.support.Stack;
import dev.chorus.api.support.WsClient;
import io.temporal.api.enums.v1.WorkflowExecutionStatus;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowClientOptions;
import io.temporal.serviceclient.WorkflowServiceStubs;
import io.temporal.serviceclient.WorkflowServiceStubsOptions;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The whole path on the real processes: the api-server and worker jars run as separate JVMs against
 * the real PostgreSQL, Redis and Temporal dev server; a real WebSocket client watches the answer.
 */
class EndToEndIT {
  private static int apiPort;

  @BeforeAll
  static void startProcesses() {
    apiPort = ChorusProcesses.get().apiPort();
  }

  @Test
  void messageStreamsLiveToWebSocketAndIsPersisted() {
    var api = new ApiClient(apiPort);
    String token = api.register();
    UUID conversationId = api.createConversation(token);

    try (var ws = new WsClient(apiPort, token)) {
      ws.await("ready", Duration.ofSeconds(10));
      ws.send(Map.of("type", "subscribe", "conversationId", conversationId.toString()));
      ws.await("subscribed", Duration.ofSeconds(10));

      var sent =
          api.call(
              "POST",
              "/api/conversations/" + conversationId + "/messages",
              token,
              Map.of(
                  "content",
                  "Explain durable execution — briefly, s'il vous plaît",
                  "agents",
                  List.of(Map.of("provider", "mock", "model", "mock-e2e"))));
      assertThat(sent.status()).isEqualTo(202);
      String queryId = sent.body().at("/query/id").asText();
      String workflowId = sent.body().at("/query/workflowId").asText();
      assertThat(workflowId).isEqualTo("query-" + queryId);

      List<JsonNode> events =
          ws.collectUntil(
              e -> "query_completed".equals(e.path("type").asText()), Duration.ofSeconds(90));
      List<String> types = events.stream().map(e -> e.path("type").asText()).distinct().toList();
      assertThat(types)
          .containsSubsequence(
              "message_created",
              "query_started",
              "response_started",
              "delta",
              "response_completed",
              "query_completed");
      assertThat(events).allSatisfy(e -> assertThat(e.path("id").asText()).matches("\\d+-\\d+"));
      assertThat(events).allSatisfy(e -> assertThat(e.path("queryId").asText()).isEqualTo(queryId));

      StringBuilder assembled = new StringBuilder();
      long expectedSeq = 0;
      for (JsonNode event : events) {
        if (event.path("type").asText().equals("delta")) {
          assertThat(event.path("seq").asLong()).isEqualTo(expectedSeq++);
          assembled.append(event.path("text").asText());
        }
      }
      assertThat(expectedSeq).isGreaterThan(10);
      JsonNode completed =
          events.stream()
              .filter(e -> e.path("type").asText().equals("response_completed"))
              .findFirst()
              .orElseThrow();
      assertThat(completed.path("content").asText()).isEqualTo(assembled.toString());
      JsonNode done = events.getLast();
      assertThat(done.path("status").asText()).isEqualTo("COMPLETED");

      var query = api.call("GET", "/api/queries/" + queryId, token, null);
      assertThat(query.status()).isEqualTo(200);
      assertThat(query.body().path("status").asText()).isEqualTo("COMPLETED");
      assertThat(query.body().at("/responses/0/content").asText()).isEqualTo(assembled.toString());
      assertThat(query.body().at("/responses/0/status").asText()).isEqualTo("COMPLETED");

      var messages =
          api.call("GET", "/api/conversations/" + conversationId + "/messages", token, null);
      assertThat(messages.body().path("items")).hasSize(2);
      assertThat(messages.body().at("/items/1/role").asText()).isEqualTo("assistant");
      assertThat(messages.body().at("/items/1/content").asText()).isEqualTo(assembled.toString());

      assertWorkflowCompleted(workflowId);
      assertWorkflowCompletedPerCli(workflowId);
    }
  }

  @Test
  void reconnectingClientCatchesUpFromItsLastEventOnce() {
    var api = new ApiClient(apiPort);
    String token = api.register();
    UUID conversationId = api.createConversation(token);
    var sent =
        api.call(
            "POST",
            "/api/conversations/" + conversationId + "/messages",
            token,
            Map.of("content", "count the voices"));
    String queryId = sent.body().at("/query/id").asText();

    List<JsonNode> all;
    try (var ws = new WsClient(apiPort, token)) {
      ws.await("ready", Duration.ofSeconds(10));
      ws.send(Map.of("type", "subscribe", "queryId", queryId));
      all =
          ws.collectUntil(
              e -> "query_completed".equals(e.path("type").asText()), Duration.ofSeconds(90));
    }
    List<JsonNode> queryEvents =
        all.stream().filter(e -> e.hasNonNull("queryId") && e.has("id")).toList();
    assertThat(queryEvents.size()).isGreaterThan(5);
    JsonNode cut = queryEvents.get(queryEvents.size() / 2);

    try (var ws = new WsClient(apiPort, null)) {
      ws.send(Map.of("type", "auth", "token", token));
      ws.await("ready", Duration.ofSeconds(10));
      ws.send(Map.of("type", "subscribe", "queryId", queryId, "after", cut.path("id").asText()));
      List<JsonNode> replay =
          ws.collectUntil(
              e -> "query_completed".equals(e.path("type").asText()), Duration.ofSeconds(30));
      List<String> replayIds =
          replay.stream().filter(e -> e.has("id")).map(e -> e.path("id").asText()).toList();
      List<String> expected =
          queryEvents.subList(queryEvents.size() / 2 + 1, queryEvents.size()).stream()
              .map(e -> e.path("id").asText())
              .toList();
      assertThat(replayIds).isEqualTo(expected);
    }
  }

  private static void assertWorkflowCompleted(String workflowId) {
    var stubs =
        WorkflowServiceStubs.newServiceStubs(
            WorkflowServiceStubsOptions.newBuilder().setTarget(Stack.TEMPORAL_ADDRESS).build());
    try {
      var client =
          WorkflowClient.newInstance(
              stubs,
              WorkflowClientOptions.newBuilder().setNamespace(Stack.TEMPORAL_NAMESPACE).build());
      // query_completed is published by the workflow's last activity: the workflow itself
      // completes a moment after the client has the event.
      var description =
          org.awaitility.Awaitility.await()
              .atMost(java.time.Duration.ofSeconds(30))
              .pollInterval(java.time.Duration.ofMillis(100))
              .until(
                  () -> client.newUntypedWorkflowStub(workflowId).describe(),
                  d -> d.getStatus() != WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING);
      assertThat(description.getStatus())
          .isEqualTo(WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_COMPLETED);
      assertThat(description.getWorkflowType()).isEqualTo("ChatQueryWorkflow");
    } finally {
      stubs.shutdownNow();
    }
  }

  /** The operator's view of the same workflow: {@code temporal workflow describe}. */
  private static void assertWorkflowCompletedPerCli(String workflowId) {
    String cli = Stack.temporalCli();
    try {
      Process process =
          new ProcessBuilder(
                  cli,
                  "workflow",
                  "describe",
                  "--address",
                  Stack.TEMPORAL_ADDRESS,
                  "--namespace",
                  Stack.TEMPORAL_NAMESPACE,
                  "--workflow-id",
                  workflowId)
              .redirectErrorStream(true)
              .start();
      String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertThat(process.waitFor(30, TimeUnit.SECONDS)).isTrue();
      assertThat(output).contains("COMPLETED");
    } catch (IOException e) {
      throw new AssertionError("could not run " + cli, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }
}
