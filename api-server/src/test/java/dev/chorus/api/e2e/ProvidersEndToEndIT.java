package dev.chorus.api.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.chorus.api.support.ApiClient;
import dev.chorus.api.support.ChorusProcesses;
import dev.chorus.api.support.ClientView;
import dev.chorus.api.support.FakeLlm;
import dev.chorus.api.support.Stack;
import dev.chorus.api.support.WsClient;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowClientOptions;
import io.temporal.serviceclient.WorkflowServiceStubs;
import io.temporal.serviceclient.WorkflowServiceStubsOptions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import mockwebserver3.MockResponse;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Real providers' HTTP path end to end: the worker streams from a fake OpenAI-compatible server
 * over real HTTP, as a server-owned endpoint ({@code fakeai}) and as a user's own key and base URL
 * ({@code openai}); the answer reaches a real WebSocket client unchanged, failures are classified,
 * and no key leaks into history, logs or the database.
 */
class ProvidersEndToEndIT {
  private static ChorusProcesses processes;
  private static FakeLlm fake;

  @BeforeAll
  static void processes() {
    processes = ChorusProcesses.get();
    fake = processes.fakeLlm();
  }

  private record Run(String queryId, String workflowId, List<JsonNode> events) {
    String text(String agent) {
      return ClientView.assembled(events, agent);
    }

    JsonNode first(String type) {
      return ClientView.first(events, type, null);
    }
  }

  /** Sends one message to {@code agents} and collects its events until it completes. */
  private static Run ask(ApiClient api, String token, String content, List<Map<String, ?>> agents) {
    UUID conversationId = api.createConversation(token);
    try (var ws = new WsClient(processes.apiPort(), token)) {
      ws.await("ready", Duration.ofSeconds(10));
      ws.send(Map.of("type", "subscribe", "conversationId", conversationId.toString()));
      ws.await("subscribed", Duration.ofSeconds(10));
      var sent =
          api.call(
              "POST",
              "/api/conversations/" + conversationId + "/messages",
              token,
              Map.of("content", content, "agents", agents));
      assertThat(sent.status()).as(sent.body().toString()).isEqualTo(202);
      List<JsonNode> events =
          ws.collectUntil(
              e -> "query_completed".equals(e.path("type").asText()), Duration.ofSeconds(90));
      return new Run(
          sent.body().at("/query/id").asText(),
          sent.body().at("/query/workflowId").asText(),
          events);
    }
  }

  @Test
  void aServerOwnedEndpointStreamsTheExactTextWithTheServersKey() {
    List<String> pieces = List.of("Bonjour", " le ", "monde", " — ", "日本語", " 🎵", "!");
    fake.answer("fake-gpt", request -> FakeLlm.openAiStream(pieces, 12));
    var api = new ApiClient(processes.apiPort());
    String token = api.register();

    Run run =
        ask(api, token, "Say hello", List.of(Map.of("provider", "fakeai", "model", "fake-gpt")));

    assertThat(run.text("fakeai/fake-gpt")).isEqualTo(String.join("", pieces));
    JsonNode completed = run.first("response_completed");
    assertThat(completed.path("content").asText()).isEqualTo(String.join("", pieces));
    assertThat(completed.at("/usage/inputTokens").asLong()).isEqualTo(12);
    assertThat(completed.at("/usage/outputTokens").asLong()).isEqualTo(pieces.size());
    assertThat(run.events.getLast().path("status").asText()).isEqualTo("COMPLETED");
    var query = api.call("GET", "/api/queries/" + run.queryId, token, null);
    assertThat(query.body().at("/responses/0/content").asText()).isEqualTo(String.join("", pieces));

    var request = fake.requestsFor("fake-gpt").getLast();
    assertThat(request.getHeaders().get("Authorization"))
        .isEqualTo("Bearer " + ChorusProcesses.FAKEAI_SERVER_KEY);
    JsonNode body = FakeLlm.body(request);
    assertThat(body.path("stream").asBoolean()).isTrue();
    assertThat(body.path("messages").toString()).contains("Say hello");
  }

  @Test
  void aUsersOwnKeyAndBaseUrlAreUsedAndTheKeyLeaksNowhere() {
    List<String> pieces = List.of("Your ", "own ", "key ", "works.");
    fake.answer("gpt-4o-mini", request -> FakeLlm.openAiStream(pieces, 5));
    var api = new ApiClient(processes.apiPort());
    String token = api.register();
    String userKey = "sk-user-e2e-" + UUID.randomUUID().toString().replace("-", "");
    List<Map<String, ?>> agents = List.of(Map.of("provider", "openai", "model", "gpt-4o-mini"));

    var before = api.call("POST", "/api/conversations", token, Map.of("agents", agents));
    assertThat(before.status()).as("no server key and none stored yet").isEqualTo(400);
    var put =
        api.call(
            "PUT",
            "/api/me/credentials/openai",
            token,
            Map.of("apiKey", userKey, "baseUrl", fake.baseUrl()));
    assertThat(put.status()).as(put.body().toString()).isEqualTo(200);
    assertThat(put.body().toString()).doesNotContain(userKey);
    var providers = api.call("GET", "/api/providers", token, null).body().path("items");
    JsonNode openai = null;
    for (JsonNode p : providers) {
      if (p.path("id").asText().equals("openai")) {
        openai = p;
      }
    }
    assertThat(openai).isNotNull();
    assertThat(openai.path("userConfigured").asBoolean()).isTrue();
    assertThat(openai.path("available").asBoolean()).isTrue();

    Run run = ask(api, token, "Use my key", agents);

    assertThat(run.events.getLast().path("status").asText()).isEqualTo("COMPLETED");
    assertThat(run.text("openai/gpt-4o-mini")).isEqualTo(String.join("", pieces));
    var request = fake.requestsFor("gpt-4o-mini").getLast();
    assertThat(request.getHeaders().get("Authorization")).isEqualTo("Bearer " + userKey);
    assertThat(request.getHeaders().toString()).doesNotContain(ChorusProcesses.FAKEAI_SERVER_KEY);

    String history = history(run.workflowId);
    assertThat(history).contains("gpt-4o-mini").doesNotContain(userKey);
    assertThat(processes.logs()).doesNotContain(userKey);
    var events = run.events.toString();
    assertThat(events).doesNotContain(userKey);
  }

  @Test
  void anAuthFailureIsFinalAtOnceWithoutRetries() {
    fake.answer(
        "fake-denied",
        request -> FakeLlm.openAiError(401, "invalid_request_error", "Incorrect API key provided"));
    var api = new ApiClient(processes.apiPort());
    String token = api.register();

    Run run =
        ask(api, token, "Denied?", List.of(Map.of("provider", "fakeai", "model", "fake-denied")));

    assertThat(run.events.getLast().path("status").asText()).isEqualTo("FAILED");
    assertThat(run.first("response_failed").path("error").asText())
        .contains("ProviderAuthFailed", "Incorrect API key")
        .doesNotContain(ChorusProcesses.FAKEAI_SERVER_KEY);
    assertThat(fake.requestsFor("fake-denied")).hasSize(1);
  }

  @Test
  void aRateLimitIsRetriedAfterTheProvidersRetryAfter() {
    AtomicInteger calls = new AtomicInteger();
    List<Long> at = new ArrayList<>();
    fake.answer(
        "fake-busy",
        request -> {
          at.add(System.nanoTime());
          if (calls.incrementAndGet() == 1) {
            return new MockResponse.Builder()
                .code(429)
                .setHeader("Retry-After", "2")
                .setHeader("Content-Type", "application/json")
                .body("{\"error\":{\"message\":\"Rate limit reached\",\"type\":\"requests\"}}")
                .build();
          }
          return FakeLlm.openAiStream(List.of("after ", "the ", "wait"), 3);
        });
    var api = new ApiClient(processes.apiPort());
    String token = api.register();

    Run run = ask(api, token, "Busy?", List.of(Map.of("provider", "fakeai", "model", "fake-busy")));

    assertThat(run.events.getLast().path("status").asText()).isEqualTo("COMPLETED");
    assertThat(run.text("fakeai/fake-busy")).isEqualTo("after the wait");
    assertThat(calls.get()).isEqualTo(2);
    assertThat(Duration.ofNanos(at.get(1) - at.get(0)))
        .isGreaterThanOrEqualTo(Duration.ofMillis(1900));
    JsonNode retrying = run.first("response_retrying");
    assertThat(retrying.path("attempt").asInt()).isEqualTo(2);
  }

  @Test
  void theMockInjectsADroppedStreamAndTheRetryCompletesTheAnswer() {
    var api = new ApiClient(processes.apiPort());
    String token = api.register();

    Run run =
        ask(
            api,
            token,
            "drop it",
            List.of(Map.of("provider", "mock", "model", "mock-1?dropAfter=3&tokens=12")));

    assertThat(run.events.getLast().path("status").asText()).isEqualTo("COMPLETED");
    assertThat(run.first("response_retrying").path("attempt").asInt()).isEqualTo(2);
    String agent = "mock/mock-1?dropAfter=3&tokens=12";
    assertThat(run.text(agent)).isEqualTo(run.first("response_completed").path("content").asText());
  }

  @Test
  void theProvidersListShowsTheWorkersEndpointsHealthAndCatalog() {
    var api = new ApiClient(processes.apiPort());
    String token = api.register();
    JsonNode fakeai = null;
    for (JsonNode p : api.call("GET", "/api/providers", token, null).body().path("items")) {
      if (p.path("id").asText().equals("fakeai")) {
        fakeai = p;
      }
    }
    assertThat(fakeai).as("the worker registered its named endpoint").isNotNull();
    assertThat(fakeai.path("kind").asText()).isEqualTo("openai-compatible");
    assertThat(fakeai.path("available").asBoolean()).isTrue();
    assertThat(fakeai.at("/health/status").asText()).isEqualTo("UP");
    assertThat(fakeai.path("models").toString()).contains("fake-static");
  }

  private static String history(String workflowId) {
    var stubs =
        WorkflowServiceStubs.newServiceStubs(
            WorkflowServiceStubsOptions.newBuilder().setTarget(Stack.TEMPORAL_ADDRESS).build());
    try {
      var client =
          WorkflowClient.newInstance(
              stubs,
              WorkflowClientOptions.newBuilder().setNamespace(Stack.TEMPORAL_NAMESPACE).build());
      // Payloads are JSON bytes inside the protobuf: searching its raw bytes sees every input,
      // result, heartbeat detail and failure message the server stored.
      var history = client.fetchHistory(workflowId).getHistory();
      return new String(history.toByteArray(), java.nio.charset.StandardCharsets.UTF_8);
    } finally {
      stubs.shutdownNow();
    }
  }
}
