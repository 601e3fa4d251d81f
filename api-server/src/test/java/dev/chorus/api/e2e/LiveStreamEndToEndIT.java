package dev.chorus.api.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.chorus.api.support.ApiClient;
import dev.chorus.api.support.ChorusProcesses;
import dev.chorus.api.support.ClientView;
import dev.chorus.api.support.FakeLlm;
import dev.chorus.api.support.SseClient;
import dev.chorus.api.support.Stack;
import dev.chorus.api.support.WsClient;
import io.lettuce.core.KeyScanCursor;
import io.lettuce.core.RedisClient;
import io.lettuce.core.ScanArgs;
import io.lettuce.core.ScanCursor;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The live stream end to end with the real worker: two api-server instances fan out the same
 * events, and a Redis that loses everything mid-query still brings every client to the final state
 * (live from the worker's next writes, afterwards from PostgreSQL).
 */
class LiveStreamEndToEndIT {
  private static final Duration WAIT = Duration.ofSeconds(90);
  private static ChorusProcesses processes;

  @BeforeAll
  static void startProcesses() {
    processes = ChorusProcesses.get();
  }

  private static boolean isEnd(JsonNode event) {
    return "query_completed".equals(event.path("type").asText());
  }

  /** The events that belong to the query (protocol frames such as acks carry no id). */
  private static List<String> idsAndTypes(List<JsonNode> events) {
    return events.stream()
        .filter(e -> e.has("id"))
        .map(e -> e.get("id").asText() + " " + e.get("type").asText())
        .toList();
  }

  @Test
  void twoApiServersFanOutIdenticalEventSequences() {
    int secondPort = processes.startExtraApi();
    var api = new ApiClient(processes.apiPort());
    String token = api.register();
    UUID conversationId = api.createConversation(token);
    try (var first = new WsClient(processes.apiPort(), token);
        var second = new WsClient(secondPort, token)) {
      first.subscribeConversation(conversationId);
      second.subscribeConversation(conversationId);
      api.sendMessage(
          token,
          conversationId,
          "Both servers, please",
          List.of(
              Map.of("provider", "mock", "model", "m1", "name", "one"),
              Map.of("provider", "mock", "model", "m2", "name", "two")));

      List<String> seenByFirst = idsAndTypes(first.collectUntil(LiveStreamEndToEndIT::isEnd, WAIT));
      List<String> seenBySecond =
          idsAndTypes(second.collectUntil(LiveStreamEndToEndIT::isEnd, WAIT));
      assertThat(seenBySecond).isEqualTo(seenByFirst);
      assertThat(seenByFirst.stream().filter(e -> e.endsWith(" delta")).count()).isGreaterThan(20);
      assertThat(seenByFirst).doesNotHaveDuplicates();
    }
  }

  /** Deletes every key of this run's stack from Redis: what a FLUSHALL does to it. */
  private static long loseRedis() {
    var client = RedisClient.create(Stack.REDIS_URL);
    try (var connection = client.connect()) {
      var redis = connection.sync();
      long deleted = 0;
      ScanCursor cursor = ScanCursor.INITIAL;
      do {
        KeyScanCursor<String> page =
            redis.scan(cursor, ScanArgs.Builder.matches(processes.keyPrefix() + ":*").limit(500));
        if (!page.getKeys().isEmpty()) {
          deleted += redis.del(page.getKeys().toArray(String[]::new));
        }
        cursor = page;
      } while (!cursor.isFinished());
      return deleted;
    } finally {
      client.shutdown();
    }
  }

  @Test
  void redisLostMidQueryStillBringsClientsToTheFinalState() throws InterruptedException {
    String model = "fake-slow-" + UUID.randomUUID();
    List<String> pieces = IntStream.range(0, 40).mapToObj(i -> "w" + i + " ").toList();
    String answer = String.join("", pieces);
    // About 4 s of streaming: time to lose Redis in the middle.
    processes
        .fakeLlm()
        .answer(
            model,
            request ->
                FakeLlm.openAiStream(pieces, 5)
                    .newBuilder()
                    .throttleBody(128, 100, TimeUnit.MILLISECONDS)
                    .build());
    var api = new ApiClient(processes.apiPort());
    String token = api.register();
    UUID conversationId = api.createConversation(token);
    String agent = "fakeai/" + model;
    try (var ws = new WsClient(processes.apiPort(), token)) {
      ws.subscribeConversation(conversationId);
      var sent =
          api.sendMessage(
              token,
              conversationId,
              "Slowly",
              List.of(Map.of("provider", "fakeai", "model", model)));
      String queryId = sent.body().at("/query/id").asText();
      try (var sse =
          new SseClient(processes.apiPort(), token, "/api/queries/" + queryId + "/events", null)) {
        List<JsonNode> events = new ArrayList<>();
        while (events.stream().filter(e -> e.path("type").asText().equals("delta")).count() < 5) {
          events.add(ws.next(WAIT));
        }
        assertThat(events).noneMatch(LiveStreamEndToEndIT::isEnd);
        assertThat(loseRedis()).isPositive();

        events.addAll(ws.collectUntil(LiveStreamEndToEndIT::isEnd, WAIT));
        JsonNode completed = ClientView.first(events, "response_completed", agent);
        assertThat(completed.path("content").asText()).isEqualTo(answer);
        assertThat(events.getLast().path("status").asText()).isEqualTo("COMPLETED");
        assertThat(idsAndTypes(events)).doesNotHaveDuplicates();

        List<SseClient.Event> viaSse = sse.untilEnd(WAIT);
        assertThat(viaSse.getLast().type()).isEqualTo("query_completed");
        assertThat(viaSse)
            .filteredOn(e -> e.type().equals("response_completed"))
            .singleElement()
            .satisfies(e -> assertThat(e.data().get("content").asText()).isEqualTo(answer));
      }

      // Lost again after the end: a late subscriber replays the record from PostgreSQL.
      loseRedis();
      try (var late =
          new SseClient(processes.apiPort(), token, "/api/queries/" + queryId + "/events", null)) {
        List<SseClient.Event> replay = late.untilEnd(Duration.ofSeconds(20));
        assertThat(replay).extracting(SseClient.Event::type).endsWith("query_completed");
        assertThat(replay.getFirst().type()).isEqualTo("response_completed");
        assertThat(replay.getFirst().data().get("content").asText()).isEqualTo(answer);
      }
      try (var lateWs = new WsClient(processes.apiPort(), token)) {
        lateWs.await("ready", Duration.ofSeconds(10));
        lateWs.send(Map.of("type", "subscribe", "queryId", queryId));
        List<JsonNode> replay =
            lateWs.collectUntil(LiveStreamEndToEndIT::isEnd, Duration.ofSeconds(20));
        assertThat(ClientView.first(replay, "response_completed", agent).path("content").asText())
            .isEqualTo(answer);
      }
    }
  }
}
