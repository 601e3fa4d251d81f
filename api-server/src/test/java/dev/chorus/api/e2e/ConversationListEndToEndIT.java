package dev.chorus.api.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.chorus.api.support.ApiClient;
import dev.chorus.api.support.ChorusProcesses;
import dev.chorus.api.support.WsClient;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The conversation-list channel on the real processes: the api-server announces a new conversation
 * and a PENDING query, the worker RUNNING and the final status; the token used on the URL never
 * shows up in either process's log.
 */
class ConversationListEndToEndIT {
  private static final Duration WAIT = Duration.ofSeconds(90);
  private static int apiPort;

  @BeforeAll
  static void startProcesses() {
    apiPort = ChorusProcesses.get().apiPort();
  }

  @Test
  void queryStatusFromApiAndWorkerReachesTheListChannel() {
    var api = new ApiClient(apiPort);
    String token = api.register();
    try (var ws = new WsClient(apiPort, token)) {
      ws.await("ready", WAIT);
      ws.send(Map.of("type", "subscribe", "channel", "conversations"));
      ws.await("subscribed", WAIT);

      UUID conversationId = api.createConversation(token);
      assertThat(ws.await("conversation_created", WAIT).path("conversationId").asText())
          .isEqualTo(conversationId.toString());

      var sent =
          api.sendMessage(
              token,
              conversationId,
              Map.of(
                  "content",
                  "list me",
                  "agents",
                  List.of(Map.of("provider", "mock", "model", "mock-list"))));
      assertThat(sent.status()).isEqualTo(202);
      String queryId = sent.body().at("/query/id").asText();

      List<JsonNode> statuses =
          ws.collectUntil(e -> e.path("status").asText().equals("COMPLETED"), WAIT).stream()
              .filter(e -> !e.path("type").asText().equals("heartbeat"))
              .toList();
      assertThat(statuses)
          .allSatisfy(e -> {
            assertThat(e.path("type").asText()).isEqualTo("query_status");
            assertThat(e.path("queryId").asText()).isEqualTo(queryId);
            assertThat(e.path("conversationId").asText()).isEqualTo(conversationId.toString());
          });
      assertThat(statuses.stream().map(e -> e.path("status").asText()).toList())
          .containsExactly("PENDING", "RUNNING", "COMPLETED");
    }
    assertThat(ChorusProcesses.get().logs()).doesNotContain(token);
  }
}
