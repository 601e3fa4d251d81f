package dev.chorus.api.e2e;

import static dev.chorus.api.support.ClientView.assembled;
import static dev.chorus.api.support.ClientView.first;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.chorus.api.support.ApiClient;
import dev.chorus.api.support.ChorusProcesses;
import dev.chorus.api.support.FakeLlm;
import dev.chorus.api.support.Stack;
import dev.chorus.api.support.WsClient;
import dev.chorus.model.stream.RedisKeys;
import io.lettuce.core.RedisClient;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import mockwebserver3.MockResponse;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Cancel and resume on the real processes: a cancelled agent stops within about a second and keeps
 * what the client saw; a stream that breaks mid-answer continues from its checkpoint, with a
 * prefill (mock) or a continuation prompt (OpenAI-compatible), and the client shows one unbroken
 * answer.
 */
class QueryControlEndToEndIT {
  private static ChorusProcesses processes;

  /** Two agents that would each stream for 12 s: long enough to be stopped mid-answer. */
  private static final List<Map<String, ?>> TWO_SLOW_AGENTS =
      List.of(
          Map.of("provider", "mock", "model", "mock-1?tokens=400&tokenDelay=30ms", "name", "a"),
          Map.of("provider", "mock", "model", "mock-2?tokens=400&tokenDelay=30ms", "name", "b"));

  @BeforeAll
  static void processes() {
    processes = ChorusProcesses.get();
  }

  private record Started(
      ApiClient api, String token, UUID conversationId, String queryId, WsClient ws) {}

  private static Started start(String content, List<Map<String, ?>> agents) {
    var api = new ApiClient(processes.apiPort());
    String token = api.register();
    UUID conversationId = api.createConversation(token);
    var ws = new WsClient(processes.apiPort(), token);
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
    return new Started(api, token, conversationId, sent.body().at("/query/id").asText(), ws);
  }

  /** Collects events until {@code agent} has streamed {@code deltas} deltas. */
  private static List<JsonNode> until(WsClient ws, String agent, int deltas) {
    int[] seen = {0};
    return ws.collectUntil(
        e ->
            e.path("type").asText().equals("delta")
                && e.path("agent").asText().equals(agent)
                && ++seen[0] >= deltas,
        Duration.ofSeconds(60));
  }

  private static List<JsonNode> untilCompleted(WsClient ws) {
    return ws.collectUntil(
        e -> e.path("type").asText().equals("query_completed"), Duration.ofSeconds(90));
  }

  @Test
  void cancellingOneAgentStopsItAtOnceKeepsItsTextAndTheOtherFinishes() {
    var run =
        start(
            "Take your time",
            List.of(
                Map.of(
                    "provider",
                    "mock",
                    "model",
                    "mock-1?tokens=400&tokenDelay=30ms",
                    "name",
                    "slow"),
                Map.of(
                    "provider",
                    "mock",
                    "model",
                    "mock-2?tokens=30&tokenDelay=20ms",
                    "name",
                    "quick")));
    var redis = RedisClient.create(Stack.REDIS_URL);
    try (var ws = run.ws;
        var announcements = redis.connectPubSub()) {
      // What the workers hear: the api-server announces the cancel, so the agent's next heartbeat
      // (which carries Temporal's cancel) comes at once, not at its regular interval.
      List<String> announced = new CopyOnWriteArrayList<>();
      announcements.addListener(
          new RedisPubSubAdapter<>() {
            @Override
            public void message(String channel, String message) {
              announced.add(message);
            }
          });
      announcements.sync().subscribe(new RedisKeys(processes.keyPrefix()).cancelChannel());
      List<JsonNode> events = new ArrayList<>(until(ws, "slow", 10));
      long cancelAt = System.nanoTime();
      var cancel =
          run.api.call(
              "POST",
              "/api/queries/" + run.queryId + "/cancel",
              run.token,
              Map.of("agent", "slow"));
      assertThat(cancel.status()).isEqualTo(202);
      await().atMost(Duration.ofSeconds(10)).until(() -> announced.contains(run.queryId));
      events.addAll(
          ws.collectUntil(
              e -> e.path("type").asText().equals("response_cancelled"), Duration.ofSeconds(30)));
      long stoppedMs = (System.nanoTime() - cancelAt) / 1_000_000;
      System.out.println("[cancel] cancel request → response_cancelled: " + stoppedMs + " ms");
      events.addAll(untilCompleted(ws));

      JsonNode cancelled = first(events, "response_cancelled", "slow");
      assertThat(cancelled.path("content").asText()).isEqualTo(assembled(events, "slow"));
      assertThat(assembled(events, "slow")).isNotEmpty();
      int cancelledAt = events.indexOf(cancelled);
      assertThat(events.subList(cancelledAt + 1, events.size()))
          .as("no delta of a cancelled agent after it stopped")
          .noneMatch(e ->
              e.path("type").asText().equals("delta") && e.path("agent").asText().equals("slow"));
      assertThat(stoppedMs).as("the stream closes within seconds").isLessThan(10_000);
      assertThat(first(events, "response_completed", "quick").path("content").asText())
          .isEqualTo(assembled(events, "quick"));
      assertThat(events.getLast().path("status").asText()).isEqualTo("COMPLETED");

      var query = run.api.call("GET", "/api/queries/" + run.queryId, run.token, null).body();
      for (JsonNode response : query.path("responses")) {
        if (response.path("agent").asText().equals("slow")) {
          assertThat(response.path("status").asText()).isEqualTo("CANCELLED");
          assertThat(response.path("content").asText()).isEqualTo(assembled(events, "slow"));
        }
      }
    } finally {
      redis.shutdown();
    }
  }

  @Test
  void deletingAConversationStopsItsQueryStillUnderWay() {
    var run = start("A long one, please", TWO_SLOW_AGENTS);
    try (var ws = run.ws) {
      until(ws, "a", 5);
      var deleted =
          run.api.call("DELETE", "/api/conversations/" + run.conversationId, run.token, null);
      assertThat(deleted.status()).isEqualTo(204);

      // 400 tokens 30 ms apart would take 12 s; the cancel ends it long before.
      List<JsonNode> events = untilCompleted(ws);
      assertThat(events.getLast().path("status").asText()).isEqualTo("CANCELLED");
      assertThat(events)
          .filteredOn(e -> e.path("type").asText().equals("response_cancelled"))
          .extracting(e -> e.path("agent").asText())
          .containsExactlyInAnyOrder("a", "b");
    }
  }

  @Test
  void deletingSeveralConversationsAtOnceStopsTheQueryOfEach() {
    var run = start("A long one, please", TWO_SLOW_AGENTS);
    UUID second = run.api.createConversation(run.token);
    try (var ws = run.ws) {
      ws.send(Map.of("type", "subscribe", "conversationId", second.toString()));
      ws.await("subscribed", Duration.ofSeconds(10));
      var sent =
          run.api.call(
              "POST",
              "/api/conversations/" + second + "/messages",
              run.token,
              Map.of("content", "Another long one", "agents", TWO_SLOW_AGENTS));
      assertThat(sent.status()).as(sent.body().toString()).isEqualTo(202);
      until(ws, "a", 5);
      var deleted =
          run.api.call(
              "POST",
              "/api/conversations/batch-delete",
              run.token,
              Map.of("ids", List.of(run.conversationId, second)));
      assertThat(deleted.status()).as(deleted.body().toString()).isEqualTo(200);

      int[] ends = {0};
      List<JsonNode> events =
          ws.collectUntil(
              e -> e.path("type").asText().equals("query_completed") && ++ends[0] == 2,
              Duration.ofSeconds(90));
      assertThat(events)
          .filteredOn(e -> e.path("type").asText().equals("query_completed"))
          .extracting(e -> e.path("queryId").asText(), e -> e.path("status").asText())
          .containsExactlyInAnyOrder(
              tuple(run.queryId, "CANCELLED"),
              tuple(sent.body().at("/query/id").asText(), "CANCELLED"));
    }
  }

  @Test
  void cancellingTheWholeQueryOverTheWebSocketStopsEveryAgent() {
    var run = start("Never mind", TWO_SLOW_AGENTS);
    try (var ws = run.ws) {
      List<JsonNode> events = new ArrayList<>(until(ws, "b", 5));
      ws.send(Map.of("type", "cancel", "queryId", run.queryId));
      events.addAll(untilCompleted(ws));

      assertThat(events.getLast().path("status").asText()).isEqualTo("CANCELLED");
      for (String agent : List.of("a", "b")) {
        assertThat(first(events, "response_cancelled", agent).path("content").asText())
            .isEqualTo(assembled(events, agent));
      }
      assertThat(events).anyMatch(e -> e.path("type").asText().equals("cancel_accepted"));
      var query = run.api.call("GET", "/api/queries/" + run.queryId, run.token, null).body();
      assertThat(query.path("status").asText()).isEqualTo("CANCELLED");
    }
  }

  @Test
  void aStreamBrokenMidAnswerContinuesFromItsCheckpointWithAPrefill() {
    String prompt = "Continue, do not restart " + UUID.randomUUID();
    var run =
        start(
            prompt,
            List.of(
                Map.of(
                    "provider",
                    "mock",
                    "model",
                    "mock-1?tokens=80&tokenDelay=15ms&dropAfter=50",
                    "name",
                    "resumer")));
    List<JsonNode> events;
    try (var ws = run.ws) {
      events = untilCompleted(ws);
    }
    JsonNode retrying = first(events, "response_retrying", "resumer");
    assertThat(retrying.path("resumeFrom").asInt()).as("kept the checkpoint").isPositive();
    String content = first(events, "response_completed", "resumer").path("content").asText();
    assertThat(assembled(events, "resumer")).isEqualTo(content);

    // The same question without a failure gives the same answer: nothing repeated or lost.
    var reference =
        start(
            prompt,
            List.of(
                Map.of(
                    "provider",
                    "mock",
                    "model",
                    "mock-1?tokens=80&tokenDelay=1ms",
                    "name",
                    "resumer")));
    try (var ws = reference.ws) {
      String uninterrupted =
          first(untilCompleted(ws), "response_completed", "resumer").path("content").asText();
      assertThat(content).isEqualTo(uninterrupted);
    }
  }

  @Test
  void anOpenAiCompatibleStreamBrokenMidAnswerContinuesWithAContinuationPrompt() {
    FakeLlm fake = processes.fakeLlm();
    AtomicInteger calls = new AtomicInteger();
    List<JsonNode> bodies = new java.util.concurrent.CopyOnWriteArrayList<>();
    fake.answer(
        "fake-drop",
        request -> {
          bodies.add(FakeLlm.body(request));
          if (calls.incrementAndGet() == 1) {
            // Three pieces, then the body ends without a finish reason or [DONE].
            return new MockResponse.Builder()
                .code(200)
                .setHeader("Content-Type", "text/event-stream")
                .body(truncatedStream(List.of("Once ", "upon ", "a ")))
                .build();
          }
          return FakeLlm.openAiStream(List.of("time", "."), 9);
        });
    var run =
        start(
            "Tell a story",
            List.of(Map.of("provider", "fakeai", "model", "fake-drop", "name", "teller")));
    List<JsonNode> events;
    try (var ws = run.ws) {
      events = untilCompleted(ws);
    }
    assertThat(events.getLast().path("status").asText()).isEqualTo("COMPLETED");
    assertThat(first(events, "response_retrying", "teller").path("resumeFrom").asInt())
        .isEqualTo("Once upon a ".length());
    assertThat(assembled(events, "teller")).isEqualTo("Once upon a time.");
    assertThat(first(events, "response_completed", "teller").path("content").asText())
        .isEqualTo("Once upon a time.");
    JsonNode retry = bodies.get(1).path("messages");
    assertThat(retry.get(retry.size() - 2).path("role").asText()).isEqualTo("assistant");
    assertThat(retry.get(retry.size() - 2).path("content").asText()).isEqualTo("Once upon a ");
    assertThat(retry.get(retry.size() - 1).path("role").asText()).isEqualTo("user");
    assertThat(retry.get(retry.size() - 1).path("content").asText()).contains("Continue");
  }

  private static String truncatedStream(List<String> pieces) {
    StringBuilder sse = new StringBuilder();
    for (String piece : pieces) {
      sse.append(
              "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,")
          .append("\"delta\":{\"content\":\"")
          .append(piece)
          .append("\"},\"finish_reason\":null}]}\n\n");
    }
    return sse.toString();
  }
}
