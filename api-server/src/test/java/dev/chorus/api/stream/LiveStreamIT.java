package dev.chorus.api.stream;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectWriter;
import dev.chorus.api.support.ApiClient;
import dev.chorus.api.support.SseClient;
import dev.chorus.api.support.Stack;
import dev.chorus.api.support.WsClient;
import dev.chorus.api.ws.SubscriptionHub;
import dev.chorus.model.api.QueryStatus;
import dev.chorus.model.event.QueryEvent;
import dev.chorus.model.json.ChorusJson;
import dev.chorus.model.stream.RedisKeys;
import io.lettuce.core.Limit;
import io.lettuce.core.Range;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.temporal.client.WorkflowClient;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.test.context.ActiveProfiles;

/**
 * The live-stream path of one api-server against real Redis and PostgreSQL, with real SSE and
 * WebSocket clients. The test plays the worker: it writes the query's events into its Redis stream
 * itself (no worker runs), so it decides what is there, what is lost and when.
 */
@SpringBootTest(
    webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
    properties = {
      "chorus.stream.client-buffer-chars=200000",
      "chorus.stream.client-buffer-events=2000",
      "chorus.stream.sse-heartbeat=1s"
    })
@ActiveProfiles("test")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LiveStreamIT {
  private static final Duration WAIT = Duration.ofSeconds(15);
  private static final ObjectWriter EVENT = ChorusJson.mapper().writerFor(QueryEvent.class);

  @LocalServerPort int port;
  @Autowired JdbcClient jdbc;
  @Autowired WorkflowClient workflowClient;
  @Autowired StreamProperties properties;
  @Autowired SubscriptionHub hub;
  @Autowired StreamRelay relay;

  private final List<String> startedWorkflows = new ArrayList<>();
  private RedisClient redisClient;
  private StatefulRedisConnection<String, String> redis;
  private RedisKeys keys;
  private ApiClient api;

  private record Query(String token, UUID id, UUID conversationId) {}

  @BeforeAll
  void connect() {
    Stack.require();
    jdbc.sql(
            """
            INSERT INTO providers (id, kind, server_configured, health, health_detail, checked_at)
            VALUES ('mock', 'mock', true, 'UP', '2 models', now())
            ON CONFLICT (id) DO UPDATE SET server_configured = true, health = 'UP'
            """)
        .update();
    redisClient = RedisClient.create(Stack.REDIS_URL);
    redis = redisClient.connect();
    keys = new RedisKeys(properties.keyPrefix());
    api = new ApiClient(port);
  }

  @AfterAll
  void cleanUp() {
    for (String id : startedWorkflows) {
      try {
        workflowClient.newUntypedWorkflowStub(id).terminate("test cleanup");
      } catch (RuntimeException alreadyDone) {
        // Finished or never started.
      }
    }
    redis.close();
    redisClient.shutdown();
  }

  /** A real query of a fresh user (its workflow waits for a worker that never comes). */
  private Query newQuery() {
    String token = api.register();
    UUID conversationId = api.createConversation(token);
    var sent =
        api.sendMessage(
            token,
            conversationId,
            "hello",
            List.of(
                Map.of("provider", "mock", "model", "m", "name", "a"),
                Map.of("provider", "mock", "model", "m", "name", "b")));
    startedWorkflows.add(sent.body().at("/query/workflowId").asText());
    UUID queryId = UUID.fromString(sent.body().at("/query/id").asText());
    return new Query(token, queryId, conversationId);
  }

  /**
   * Writes an event as the worker does (to its query's stream, then a copy to the live feed) and
   * returns its id.
   */
  private String publish(QueryEvent event) {
    String json;
    try {
      json = EVENT.writeValueAsString(event);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
    String id = redis.sync().xadd(keys.queryStream(event.queryId()), RedisKeys.EVENT_FIELD, json);
    redis
        .sync()
        .xadd(
            keys.liveFeed(),
            Map.of(
                RedisKeys.LIVE_QUERY_FIELD,
                event.queryId().toString(),
                RedisKeys.LIVE_CONVERSATION_FIELD,
                event.conversationId().toString(),
                RedisKeys.LIVE_ID_FIELD,
                id,
                RedisKeys.EVENT_FIELD,
                json));
    return id;
  }

  private String delta(Query q, String agent, long seq, String text) {
    return publish(new QueryEvent.Delta(q.id(), q.conversationId(), agent, 1, seq, text));
  }

  private String completed(Query q) {
    return publish(
        new QueryEvent.QueryCompleted(q.id(), q.conversationId(), QueryStatus.COMPLETED));
  }

  /** Written to the query's stream only: what a relay misses when the feed was trimmed. */
  private String missedByTheFeed(QueryEvent event) {
    try {
      return redis
          .sync()
          .xadd(
              keys.queryStream(event.queryId()),
              RedisKeys.EVENT_FIELD,
              EVENT.writeValueAsString(event));
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  @Test
  void aRelayThatFellBehindTheFeedsCapReadsTheQueryStreamsAgain() {
    Query q = newQuery();
    try (var sse = new SseClient(port, q.token(), "/api/queries/" + q.id() + "/events", null)) {
      assertThat(sse.status()).isEqualTo(200);
      String first = delta(q, "a", 0, "t0");
      assertThat(sse.next(WAIT).id()).isEqualTo(first);
      // Trimmed from the feed before the relay read them: only the query's stream has them.
      String second =
          missedByTheFeed(new QueryEvent.Delta(q.id(), q.conversationId(), "a", 1, 1, "t1"));
      String end =
          missedByTheFeed(
              new QueryEvent.QueryCompleted(q.id(), q.conversationId(), QueryStatus.COMPLETED));

      relay.reread(Instant.now().minusSeconds(60));

      assertThat(sse.untilEnd(WAIT)).extracting(SseClient.Event::id).containsExactly(second, end);
    }
  }

  @Test
  void theRelayTellsWhenTheFeedDroppedEntriesItHadNotRead() {
    delta(newQuery(), "a", 0, "t0");
    String feedBefore =
        redis
            .sync()
            .xrevrange(keys.liveFeed(), Range.create("-", "+"), Limit.from(1))
            .getFirst()
            .getId();
    Query q = newQuery();
    for (int i = 0; i < 5; i++) {
      delta(q, "a", i, "t" + i);
    }
    assertThat(relay.trimmedAfter(feedBefore)).isFalse();

    redis.sync().xtrim(keys.liveFeed(), 2); // exact: only the last 2 deltas are left

    assertThat(relay.trimmedAfter(feedBefore)).isTrue();
  }

  @Test
  void sseReplaysThenFollowsLiveAndResumesFromLastEventId() {
    Query q = newQuery();
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      ids.add(delta(q, "a", i, "t" + i));
    }
    List<SseClient.Event> first = new ArrayList<>();
    try (var sse = new SseClient(port, q.token(), "/api/queries/" + q.id() + "/events", null)) {
      assertThat(sse.status()).isEqualTo(200);
      assertThat(sse.contentType()).startsWith("text/event-stream");
      for (int i = 0; i < 5; i++) {
        first.add(sse.next(WAIT));
      }
      // Live after the replay.
      ids.add(delta(q, "a", 5, "t5"));
      first.add(sse.next(WAIT));
    }
    assertThat(first).extracting(SseClient.Event::id).containsExactlyElementsOf(ids);
    assertThat(first).extracting(SseClient.Event::type).containsOnly("delta");
    assertThat(first.get(5).data().get("text").asText()).isEqualTo("t5");
    assertThat(first.get(5).data().get("id").asText()).isEqualTo(ids.get(5));

    // Missed while away: two deltas and the end.
    ids.add(delta(q, "a", 6, "t6"));
    ids.add(delta(q, "a", 7, "t7"));
    ids.add(completed(q));
    try (var resumed =
        new SseClient(port, q.token(), "/api/queries/" + q.id() + "/events", ids.get(3))) {
      List<SseClient.Event> rest = resumed.untilEnd(WAIT);
      assertThat(rest).extracting(SseClient.Event::id).containsExactlyElementsOf(ids.subList(4, 9));
      assertThat(rest.getLast().type()).isEqualTo("query_completed");
    }
    // ?after= does the same for curl; from the very last id the response ends at once.
    try (var fromParam =
        new SseClient(
            port, q.token(), "/api/queries/" + q.id() + "/events?after=" + ids.get(7), null)) {
      assertThat(fromParam.untilEnd(WAIT))
          .extracting(SseClient.Event::id)
          .containsExactly(ids.get(8));
    }
    try (var atEnd =
        new SseClient(port, q.token(), "/api/queries/" + q.id() + "/events", ids.get(8))) {
      assertThat(atEnd.untilEnd(WAIT)).isEmpty();
    }
  }

  @Test
  void sseRefusesOtherUsersUnknownQueriesAndBadCursorsBeforeStreaming() {
    Query q = newQuery();
    String stranger = api.register();
    for (String path :
        List.of(
            "/api/queries/" + q.id() + "/events",
            "/api/queries/" + UUID.randomUUID() + "/events")) {
      try (var sse = new SseClient(port, stranger, path, null)) {
        assertThat(sse.status()).as(path).isEqualTo(404);
        assertThat(sse.contentType()).startsWith("application/problem+json");
      }
    }
    try (var sse = new SseClient(port, q.token(), "/api/queries/" + q.id() + "/events", "nope")) {
      assertThat(sse.status()).isEqualTo(400);
      assertThat(sse.contentType()).startsWith("application/problem+json");
      assertThat(sse.errorBody()).contains("invalid-event-id");
    }
  }

  @Test
  void sseSendsHeartbeatComments() throws InterruptedException {
    Query q = newQuery();
    try (var sse = new SseClient(port, q.token(), "/api/queries/" + q.id() + "/events", null)) {
      long deadline = System.nanoTime() + WAIT.toNanos();
      while (sse.comments() < 2 && System.nanoTime() < deadline) {
        TimeUnit.MILLISECONDS.sleep(100);
      }
      assertThat(sse.comments()).isGreaterThanOrEqualTo(2);
    }
  }

  /** Marks the query finished in PostgreSQL as the worker would: a answered, b never started. */
  private void finishInPostgres(Query q) {
    jdbc.sql(
            """
            INSERT INTO responses (query_id, agent, provider, model, status, attempt, content,
                                   latency_ms, completed_at)
            VALUES (:id, 'a', 'mock', 'm', 'COMPLETED', 1, 'the whole answer', 12, now())
            """)
        .param("id", q.id())
        .update();
    jdbc.sql("UPDATE queries SET status = 'PARTIAL', completed_at = now() WHERE id = :id")
        .param("id", q.id())
        .update();
  }

  @Test
  void aLostStreamOfAFinishedQueryReplaysFromPostgres() {
    Query q = newQuery();
    String seen = delta(q, "a", 0, "the ");
    finishInPostgres(q);
    redis.sync().del(keys.queryStream(q.id()));

    for (String lastEventId : new String[] {null, seen}) {
      try (var sse =
          new SseClient(port, q.token(), "/api/queries/" + q.id() + "/events", lastEventId)) {
        List<SseClient.Event> events = sse.untilEnd(WAIT);
        assertThat(events)
            .extracting(SseClient.Event::type)
            .containsExactly("response_completed", "response_failed", "query_completed");
        assertThat(events.get(0).data().get("content").asText()).isEqualTo("the whole answer");
        // b never got a response row: the query ended before it started.
        assertThat(events.get(1).data().get("agent").asText()).isEqualTo("b");
        assertThat(events.get(2).data().get("status").asText()).isEqualTo("PARTIAL");
        // Resuming from the rebuilt end sends nothing again.
        try (var again =
            new SseClient(
                port, q.token(), "/api/queries/" + q.id() + "/events", events.get(2).id())) {
          assertThat(again.untilEnd(WAIT)).isEmpty();
        }
      }
    }

    try (var ws = new WsClient(port, q.token())) {
      ws.await("ready", WAIT);
      ws.send(Map.of("type", "subscribe", "queryId", q.id().toString(), "after", seen));
      List<JsonNode> events =
          ws.collectUntil(e -> e.path("type").asText().equals("query_completed"), WAIT);
      assertThat(events)
          .extracting(e -> e.path("type").asText())
          .containsSubsequence("response_completed", "response_failed", "query_completed");
    }
  }

  @Test
  void aRunningQueryWhoseStreamVanishedKeepsRelayingWhenTheWorkerWritesAgain() {
    Query q = newQuery();
    try (var sse = new SseClient(port, q.token(), "/api/queries/" + q.id() + "/events", null)) {
      String first = delta(q, "a", 0, "one ");
      assertThat(sse.next(WAIT).id()).isEqualTo(first);
      redis.sync().del(keys.queryStream(q.id()));
      String second = delta(q, "a", 1, "two");
      String end = completed(q);
      assertThat(sse.untilEnd(WAIT)).extracting(SseClient.Event::id).containsExactly(second, end);
    }
  }

  @Test
  void webSocketReconnectWithAfterGetsEveryLaterEventOnceInOrder() {
    Query q = newQuery();
    List<String> ids = new ArrayList<>();
    String lastSeen;
    try (var ws = new WsClient(port, q.token())) {
      ws.await("ready", WAIT);
      ws.send(Map.of("type", "subscribe", "queryId", q.id().toString()));
      for (int i = 0; i < 3; i++) {
        ids.add(delta(q, "a", i, "t" + i));
      }
      List<JsonNode> got = ws.collectUntil(e -> e.path("id").asText().equals(ids.get(2)), WAIT);
      lastSeen = got.getLast().path("id").asText();
    }
    for (int i = 3; i < 8; i++) {
      ids.add(delta(q, "b", i, "t" + i));
    }
    try (var ws = new WsClient(port, q.token())) {
      ws.await("ready", WAIT);
      ws.send(Map.of("type", "subscribe", "queryId", q.id().toString(), "after", lastSeen));
      ids.add(delta(q, "b", 8, "live"));
      ids.add(completed(q));
      List<JsonNode> events =
          ws.collectUntil(e -> e.path("type").asText().equals("query_completed"), WAIT);
      assertThat(events.stream().filter(e -> e.has("id")).map(e -> e.get("id").asText()))
          .containsExactlyElementsOf(ids.subList(3, 10));
    }
  }

  @Test
  void conversationResumeWithAfterAlsoEndsAQueryThatFinishedWhileTheClientWasAway() {
    Query q = newQuery();
    List<String> ids = new ArrayList<>();
    String lastSeen;
    try (var ws = new WsClient(port, q.token())) {
      ws.await("ready", WAIT);
      ws.send(Map.of("type", "subscribe", "conversationId", q.conversationId().toString()));
      ws.await("subscribed", WAIT);
      ids.add(delta(q, "a", 0, "t0"));
      List<JsonNode> got = ws.collectUntil(e -> e.path("id").asText().equals(ids.get(0)), WAIT);
      lastSeen = got.getLast().path("id").asText();
    }
    // While the client is away the query streams on and ends: no longer "active" when it returns.
    ids.add(delta(q, "a", 1, "t1"));
    ids.add(completed(q));
    jdbc.sql("UPDATE queries SET status = 'COMPLETED', completed_at = now() WHERE id = :id")
        .param("id", q.id())
        .update();

    try (var ws = new WsClient(port, q.token())) {
      ws.await("ready", WAIT);
      ws.send(
          Map.of(
              "type",
              "subscribe",
              "conversationId",
              q.conversationId().toString(),
              "after",
              lastSeen));
      List<JsonNode> events =
          ws.collectUntil(e -> e.path("type").asText().equals("query_completed"), WAIT);
      assertThat(events.stream().filter(e -> e.has("id")).map(e -> e.get("id").asText()))
          .containsExactlyElementsOf(ids.subList(1, 3));
    }
  }

  /** A WebSocket client that reads nothing until told to. */
  private static final class StalledClient implements WebSocket.Listener {
    final CompletableFuture<Integer> closeCode = new CompletableFuture<>();
    final AtomicInteger received = new AtomicInteger();
    volatile boolean reading;

    @Override
    public void onOpen(WebSocket webSocket) {
      webSocket.request(1); // just the "ready" event
    }

    @Override
    public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
      if (last) {
        received.incrementAndGet();
      }
      if (reading) {
        webSocket.request(1);
      }
      return null;
    }

    void resume(WebSocket webSocket) {
      reading = true;
      webSocket.request(1);
    }

    @Override
    public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
      closeCode.complete(statusCode);
      return null;
    }

    @Override
    public void onError(WebSocket webSocket, Throwable error) {
      closeCode.completeExceptionally(error);
    }
  }

  @Test
  void aClientThatNeverReadsIsCutOffWithTheResumeCodeAndItsBufferStaysBounded() throws Exception {
    Query q = newQuery();
    var listener = new StalledClient();
    WebSocket socket =
        HttpClient.newHttpClient()
            .newWebSocketBuilder()
            .buildAsync(URI.create("ws://127.0.0.1:" + port + "/ws?token=" + q.token()), listener)
            .get(10, TimeUnit.SECONDS);
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (listener.received.get() < 1 && System.nanoTime() < deadline) {
      TimeUnit.MILLISECONDS.sleep(20);
    }
    socket.sendText("{\"type\":\"subscribe\",\"queryId\":\"" + q.id() + "\"}", true).join();
    int subscribersBefore = hub.size();

    // 40 MB of deltas: far beyond what socket buffers and the 200 000-char client buffer hold.
    String text = "x".repeat(20_000);
    long maxQueued = 0;
    for (int i = 0; i < 2_000 && hub.size() >= subscribersBefore; i++) {
      delta(q, "a", i, text);
      if (i % 20 == 0) {
        maxQueued = Math.max(maxQueued, hub.queuedChars());
      }
    }
    // The server gave up on the client and dropped what it had queued for it.
    while (hub.size() >= subscribersBefore && System.nanoTime() < deadline) {
      maxQueued = Math.max(maxQueued, hub.queuedChars());
      TimeUnit.MILLISECONDS.sleep(20);
    }
    assertThat(hub.size()).isLessThan(subscribersBefore);
    assertThat(maxQueued).isLessThanOrEqualTo(properties.clientBufferChars() + text.length() + 200);

    // Reading again, the client finds the close code telling it to resume with its last id.
    listener.resume(socket);
    assertThat(listener.closeCode.get(30, TimeUnit.SECONDS)).isEqualTo(4008);
  }
}
