package dev.chorus.api.e2e;

import static dev.chorus.api.support.ClientView.assembled;
import static dev.chorus.api.support.ClientView.first;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.chorus.api.support.ApiClient;
import dev.chorus.api.support.ChorusProcesses;
import dev.chorus.api.support.FakeLlm;
import dev.chorus.api.support.WsClient;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A two-round debate on the real processes: a mock agent and an OpenAI-compatible one (the fake
 * server, which also writes the synthesis). Every round's answer and the synthesis stream as their
 * own responses; what a client assembles from the deltas is what was persisted, and each step's
 * prompt carries the answers of the step before.
 */
class DebateEndToEndIT {
  private static final String A2 = "a · round 2";
  private static final String B2 = "b · round 2";

  private static ChorusProcesses processes;

  @BeforeAll
  static void processes() {
    processes = ChorusProcesses.get();
  }

  @Test
  void twoRoundsAndASynthesisStreamAsTheirOwnResponses() {
    FakeLlm fake = processes.fakeLlm();
    fake.answer(
        "fake-debate",
        request -> {
          JsonNode messages = FakeLlm.body(request).path("messages");
          String last = messages.get(messages.size() - 1).path("content").asText();
          if (last.contains("Several agents answered")) {
            return FakeLlm.openAiStream(List.of("Combined: ", "both ", "agree."), 30);
          }
          if (last.contains("Other agents answered")) {
            return FakeLlm.openAiStream(List.of("B ", "revised."), 20);
          }
          return FakeLlm.openAiStream(List.of("B ", "first."), 10);
        });
    var api = new ApiClient(processes.apiPort());
    String token = api.register();
    UUID conversationId = api.createConversation(token);
    List<JsonNode> events;
    String queryId;
    try (var ws = new WsClient(processes.apiPort(), token)) {
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
                  "Debate this " + UUID.randomUUID(),
                  "agents",
                  List.of(
                      Map.of("provider", "mock", "model", "mock-1?tokens=20", "name", "a"),
                      Map.of("provider", "fakeai", "model", "fake-debate", "name", "b")),
                  "policy",
                  Map.of("mode", "debate", "rounds", 2, "synthesizer", "b")));
      assertThat(sent.status()).as(sent.body().toString()).isEqualTo(202);
      queryId = sent.body().at("/query/id").asText();
      events =
          ws.collectUntil(
              e -> e.path("type").asText().equals("query_completed"), Duration.ofSeconds(120));
    }

    assertThat(events.getLast().path("status").asText()).isEqualTo("COMPLETED");
    var query = api.call("GET", "/api/queries/" + queryId, token, null).body();
    assertThat(query.path("status").asText()).isEqualTo("COMPLETED");
    Map<String, String> persisted = new HashMap<>();
    for (JsonNode response : query.path("responses")) {
      assertThat(response.path("status").asText()).isEqualTo("COMPLETED");
      persisted.put(response.path("agent").asText(), response.path("content").asText());
    }
    assertThat(persisted).containsOnlyKeys("a", "b", A2, B2, "synthesis");
    for (String agent : persisted.keySet()) {
      String content = first(events, "response_completed", agent).path("content").asText();
      assertThat(assembled(events, agent)).as(agent).isNotEmpty().isEqualTo(content);
      assertThat(persisted.get(agent)).as(agent).isEqualTo(content);
    }
    assertThat(persisted.get("b")).isEqualTo("B first.");
    assertThat(persisted.get(B2)).isEqualTo("B revised.");
    assertThat(persisted.get("synthesis")).isEqualTo("Combined: both agree.");
    // Round 2 starts after round 1 is in; the synthesis after round 2.
    assertThat(indexOf(events, "response_started", A2))
        .isGreaterThan(indexOf(events, "response_completed", "a"))
        .isGreaterThan(indexOf(events, "response_completed", "b"));
    assertThat(indexOf(events, "response_started", "synthesis"))
        .isGreaterThan(indexOf(events, "response_completed", A2))
        .isGreaterThan(indexOf(events, "response_completed", B2));
    // The last round is ranked, the synthesis is not.
    assertThat(first(events, "ranking", null).path("ranking").findValuesAsText("agent"))
        .containsExactlyInAnyOrder(A2, B2);

    List<String> prompts =
        fake.requestsFor("fake-debate").stream()
            .map(r -> FakeLlm.body(r).path("messages"))
            .map(m -> m.get(m.size() - 1).path("content").asText())
            .toList();
    assertThat(prompts).hasSize(3);
    assertThat(prompts.get(1))
        .contains("[a]: " + persisted.get("a"))
        .contains("Your previous answer:\nB first.");
    assertThat(prompts.get(2))
        .contains("[a]: " + persisted.get(A2))
        .contains("[b]: B revised.")
        .doesNotContain("B first.");
  }

  private static int indexOf(List<JsonNode> events, String type, String agent) {
    return events.indexOf(first(events, type, agent));
  }
}
