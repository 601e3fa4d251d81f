package dev.chorus.api.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.chorus.api.support.ApiClient;
import dev.chorus.api.support.ChorusProcesses;
import dev.chorus.api.support.FakeLlm;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Branches end to end: what the worker sends to the provider (a fake OpenAI-compatible server that
 * records every request) follows the active branch after an edit and a regenerate, and the worker
 * titles an untitled conversation after its first question.
 */
class BranchHistoryEndToEndIT {
  private static final String MODEL = "fake-branches";
  private static final String AGENT = "fakeai/" + MODEL;

  private static ChorusProcesses processes;
  private static FakeLlm fake;

  @BeforeAll
  static void processes() {
    processes = ChorusProcesses.get();
    fake = processes.fakeLlm();
  }

  @Test
  void theHistorySentToTheProviderFollowsTheActiveBranch() {
    AtomicInteger answers = new AtomicInteger();
    fake.answer(
        MODEL,
        request -> FakeLlm.openAiStream(List.of("Answer ", "#" + answers.incrementAndGet()), 3));
    var api = new ApiClient(processes.apiPort());
    String token = api.register();
    var created =
        api.call(
            "POST",
            "/api/conversations",
            token,
            Map.of("agents", List.of(Map.of("provider", "fakeai", "model", MODEL))));
    assertThat(created.status()).isEqualTo(201);
    String c = created.body().get("id").asText();
    String base = "/api/conversations/" + c + "/messages";

    JsonNode first =
        finished(api, token, api.call("POST", base, token, Map.of("content", "First question")));
    JsonNode second =
        finished(api, token, api.call("POST", base, token, Map.of("content", "Second question")));
    assertThat(lastPrompt())
        .containsExactly("user: First question", "assistant: Answer #1", "user: Second question");

    // Edit the second question: the provider sees the first exchange and the new version only.
    String secondId = second.get("messageId").asText();
    finished(
        api,
        token,
        api.call(
            "POST", base + "/" + secondId + "/edit", token, Map.of("content", "Edited question")));
    assertThat(lastPrompt())
        .containsExactly("user: First question", "assistant: Answer #1", "user: Edited question");

    // Regenerate the first answer: the question alone, not the answer it replaces.
    finished(
        api,
        token,
        api.call("POST", "/api/queries/" + first.get("id").asText() + "/regenerate", token, null));
    assertThat(lastPrompt()).containsExactly("user: First question");

    // The next message continues the active branch with the regenerated answer.
    finished(api, token, api.call("POST", base, token, Map.of("content", "Third question")));
    assertThat(lastPrompt())
        .containsExactly(
            "user: First question",
            "assistant: Answer #4",
            "user: Edited question",
            "assistant: Answer #3",
            "user: Third question");

    JsonNode conversation = api.call("GET", "/api/conversations/" + c, token, null).body();
    assertThat(conversation.get("title").asText())
        .as("named after the first question by the worker")
        .isEqualTo("First question");
    List<String> active = new ArrayList<>();
    api.call("GET", base, token, null)
        .body()
        .get("items")
        .forEach(m -> active.add(m.get("content").asText()));
    assertThat(active)
        .containsExactly(
            "First question",
            "Answer #4",
            "Edited question",
            "Answer #3",
            "Third question",
            "Answer #5");
  }

  /** The role and text of each turn of the newest request the fake provider received. */
  private static List<String> lastPrompt() {
    List<String> turns = new ArrayList<>();
    FakeLlm.body(fake.requestsFor(MODEL).getLast())
        .get("messages")
        .forEach(m -> turns.add(m.get("role").asText() + ": " + m.get("content").asText()));
    return turns;
  }

  /** Waits until the query the 202 response names is final; returns it. */
  private static JsonNode finished(ApiClient api, String token, ApiClient.Response accepted) {
    assertThat(accepted.status()).as(String.valueOf(accepted.body())).isEqualTo(202);
    String queryId = accepted.body().at("/query/id").asText();
    JsonNode query =
        org.awaitility.Awaitility.await("query " + queryId + " completes")
            .atMost(Duration.ofSeconds(90))
            .pollInterval(Duration.ofMillis(200))
            .until(
                () -> api.call("GET", "/api/queries/" + queryId, token, null).body(),
                q -> {
                  assertThat(q.get("status").asText()).isIn("PENDING", "RUNNING", "COMPLETED");
                  return q.get("status").asText().equals("COMPLETED");
                });
    return query;
  }
}
