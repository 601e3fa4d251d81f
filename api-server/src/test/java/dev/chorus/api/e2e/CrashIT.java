package dev.chorus.api.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.chorus.api.support.ApiClient;
import dev.chorus.api.support.ChorusProcesses;
import dev.chorus.model.json.ChorusJson;
import dev.chorus.model.workflow.AgentStreamActivities;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Crashes on the real processes and the real Temporal dev server, with a real WebSocket client
 * watching: the worker killed with SIGKILL mid-stream, the Temporal server restarted mid-query (at
 * once, and after 12 s away), the api-server restarted mid-query. Whatever happens, the query
 * completes and the text the client assembled by the API.md rule is exactly the persisted answer.
 *
 * <p>Restarting Temporal restarts the shared dev server of {@code infra/stack.sh}: other test runs
 * on the machine see it go away for a while.
 */
class CrashIT {
  /** How long the killed worker stays down before a new one starts. */
  private static final Duration WORKER_DOWN = Duration.ofSeconds(1);

  private static final Duration QUERY_TIMEOUT = Duration.ofSeconds(100);

  /**
   * Temporal away longer than the streams' heartbeat timeout plus the SDK's local buffer (5 s): the
   * worker's SDK gives the running attempt up on its own (an {@code ActivityCanceledException}
   * caused by a heartbeat {@code TimeoutFailure} — not a cancel anyone asked for), and the server,
   * back, times the attempt out and retries it.
   */
  private static final Duration LONG_OUTAGE =
      AgentStreamActivities.HEARTBEAT_TIMEOUT.plus(Duration.ofSeconds(5 + 2));

  private static ChorusProcesses processes;

  @BeforeAll
  static void startProcesses() {
    processes = ChorusProcesses.get();
  }

  /** A test that failed half-way must not leave the next one without a worker or api-server. */
  @AfterEach
  void restoreProcesses() {
    processes.ensureRunning();
  }

  @Test
  @Timeout(value = 120, unit = TimeUnit.SECONDS)
  void workerKilledMidStreamThenStartedAgainCompletesWithExactText() throws Exception {
    var api = new ApiClient(processes.apiPort());
    String token = api.register();
    UUID conversationId = api.createConversation(token);
    List<Map<String, ?>> agents =
        List.of(
            Map.of(
                "provider", "mock", "model", "mock-1?tokens=120&tokenDelay=40ms", "name", "alto"),
            Map.of(
                "provider", "mock", "model", "mock-2?tokens=120&tokenDelay=40ms", "name", "bass"));

    try (var ws = Recorder.connect(processes.apiPort(), token)) {
      ws.subscribe(Map.of("type", "subscribe", "conversationId", conversationId.toString()));
      String queryId = send(api, token, conversationId, "Sing while I crash", agents);

      ws.awaitUntil(
          "10 deltas of each agent",
          r -> r.deltas("alto").size() >= 10 && r.deltas("bass").size() >= 10,
          Duration.ofSeconds(60));
      long killedAt = System.nanoTime();
      processes.killWorker();
      // The outage itself, not a wait for a condition: the worker stays dead this long.
      Thread.sleep(WORKER_DOWN.toMillis());
      long restartedAt = System.nanoTime();
      processes.startWorker();
      long readyAt = System.nanoTime();
      ws.awaitUntil("query_completed", r -> r.has("query_completed"), QUERY_TIMEOUT);

      Run run = ws.run(queryId);
      assertThat(run.last().path("status").asText()).isEqualTo("COMPLETED");
      run.assertIdsUniqueAndOrdered();
      JsonNode persisted = query(api, token, queryId);
      assertThat(persisted.path("status").asText()).isEqualTo("COMPLETED");
      for (String agent : List.of("alto", "bass")) {
        run.assertExact(agent, persisted);
        assertThat(run.retries(agent))
            .as("the kill cut %s's attempt 1 mid-stream, so it was retried", agent)
            .isNotEmpty();
      }

      // The first delta of a new attempt, per agent: that is the answer flowing again.
      List<Long> resumed = new ArrayList<>();
      for (String agent : List.of("alto", "bass")) {
        resumed.add(run.firstDeltaAfter(agent, killedAt, 1).at());
      }
      long next = resumed.stream().mapToLong(Long::longValue).min().orElseThrow();
      Duration killToDelta = Duration.ofNanos(next - killedAt);
      System.out.printf(
          "[crash] worker kill -9 → next delta: %s (from worker start: %s; worker start to"
              + " ready: %s; per agent after kill: alto %s, bass %s)%n",
          secs(killToDelta),
          secs(Duration.ofNanos(next - restartedAt)),
          secs(Duration.ofNanos(readyAt - restartedAt)),
          secs(Duration.ofNanos(resumed.get(0) - killedAt)),
          secs(Duration.ofNanos(resumed.get(1) - killedAt)));
      System.out.println("[crash] worker kill, alto: " + run.trace("alto"));
      System.out.println("[crash] worker kill, bass: " + run.trace("bass"));
      assertThat(killToDelta).isLessThan(Duration.ofSeconds(60));
    }
  }

  @Test
  @Timeout(value = 120, unit = TimeUnit.SECONDS)
  void temporalRestartedMidQueryCompletesWithExactText() throws Exception {
    var api = new ApiClient(processes.apiPort());
    String token = api.register();
    UUID conversationId = api.createConversation(token);
    List<Map<String, ?>> agents =
        List.of(
            Map.of(
                "provider", "mock", "model", "mock-1?tokens=150&tokenDelay=40ms", "name", "tenor"));

    try (var ws = Recorder.connect(processes.apiPort(), token)) {
      ws.subscribe(Map.of("type", "subscribe", "conversationId", conversationId.toString()));
      String queryId = send(api, token, conversationId, "Keep going without Temporal", agents);

      ws.awaitUntil("10 deltas", r -> r.deltas("tenor").size() >= 10, Duration.ofSeconds(60));
      long restartAt = System.nanoTime();
      processes.restartTemporal();
      long backAt = System.nanoTime();
      ws.awaitUntil("query_completed", r -> r.has("query_completed"), QUERY_TIMEOUT);
      long doneAt = System.nanoTime();

      Run run = ws.run(queryId);
      assertThat(run.last().path("status").asText()).isEqualTo("COMPLETED");
      run.assertIdsUniqueAndOrdered();
      JsonNode persisted = query(api, token, queryId);
      assertThat(persisted.path("status").asText()).isEqualTo("COMPLETED");
      run.assertExact("tenor", persisted);
      System.out.printf(
          "[crash] Temporal restart: down→serving %s, restart→query_completed %s, retries %d%n",
          secs(Duration.ofNanos(backAt - restartAt)),
          secs(Duration.ofNanos(doneAt - restartAt)),
          run.retries("tenor").size());
      System.out.println("[crash] Temporal restart, events: " + run.trace("tenor"));
    }
  }

  @Test
  @Timeout(value = 150, unit = TimeUnit.SECONDS)
  void temporalDownLongerThanTheHeartbeatTimeoutCompletesWithExactText() throws Exception {
    var api = new ApiClient(processes.apiPort());
    String token = api.register();
    UUID conversationId = api.createConversation(token);
    List<Map<String, ?>> agents =
        List.of(
            Map.of(
                "provider",
                "mock",
                "model",
                "mock-1?tokens=800&tokenDelay=40ms",
                "name",
                "baritone"));

    try (var ws = Recorder.connect(processes.apiPort(), token)) {
      ws.subscribe(Map.of("type", "subscribe", "conversationId", conversationId.toString()));
      String queryId = send(api, token, conversationId, "Keep going a long while", agents);

      ws.awaitUntil("10 deltas", r -> r.deltas("baritone").size() >= 10, Duration.ofSeconds(60));
      long restartAt = System.nanoTime();
      processes.restartTemporal(LONG_OUTAGE);
      long backAt = System.nanoTime();
      ws.awaitUntil("query_completed", r -> r.has("query_completed"), QUERY_TIMEOUT);
      long doneAt = System.nanoTime();

      Run run = ws.run(queryId);
      long nextDelta =
          run.of("baritone", "delta").stream()
              .mapToLong(Received::at)
              .filter(at -> at > backAt)
              .findFirst()
              .orElse(doneAt);
      System.out.printf(
          "[crash] Temporal down "
              + LONG_OUTAGE.toSeconds()
              + " s: down→serving %s, serving→next delta %s,"
              + " restart→query_completed %s, retries %d%n",
          secs(Duration.ofNanos(backAt - restartAt)),
          secs(Duration.ofNanos(nextDelta - backAt)),
          secs(Duration.ofNanos(doneAt - restartAt)),
          run.retries("baritone").size());
      System.out.println(
          "[crash] Temporal down "
              + LONG_OUTAGE.toSeconds()
              + " s, events: "
              + run.trace("baritone"));
      assertThat(run.last().path("status").asText()).isEqualTo("COMPLETED");
      run.assertIdsUniqueAndOrdered();
      JsonNode persisted = query(api, token, queryId);
      assertThat(persisted.path("status").asText()).isEqualTo("COMPLETED");
      run.assertExact("baritone", persisted);
    }
  }

  @Test
  @Timeout(value = 120, unit = TimeUnit.SECONDS)
  void apiServerRestartedMidQueryLeavesTheQueryAloneAndTheClientCatchesUp() throws Exception {
    var api = new ApiClient(processes.apiPort());
    String token = api.register();
    UUID conversationId = api.createConversation(token);
    List<Map<String, ?>> agents =
        List.of(
            Map.of(
                "provider",
                "mock",
                "model",
                "mock-1?tokens=250&tokenDelay=40ms",
                "name",
                "soprano"));

    String queryId;
    List<Received> before;
    try (var first = Recorder.connect(processes.apiPort(), token)) {
      first.subscribe(Map.of("type", "subscribe", "conversationId", conversationId.toString()));
      queryId = send(api, token, conversationId, "Outlive the api-server", agents);
      first.awaitUntil("10 deltas", r -> r.deltas("soprano").size() >= 10, Duration.ofSeconds(60));
      long restartAt = System.nanoTime();
      processes.restartApi();
      System.out.printf(
          "[crash] api-server restart (graceful stop + start until ready): %s%n",
          secs(Duration.ofNanos(System.nanoTime() - restartAt)));
      assertThat(first.closed)
          .as("the old api-server's WebSocket dropped")
          .succeedsWithin(Duration.ofSeconds(10));
      before = first.queryEvents(queryId);
    }
    assertThat(before).isNotEmpty();
    assertThat(before)
        .as("the query was not over when the api-server went down")
        .noneMatch(e -> type(e).equals("query_completed"));
    String lastSeen = before.getLast().event().path("id").asText();
    String statusAtReconnect = query(api, token, queryId).path("status").asText();

    List<Received> after;
    try (var second = Recorder.connect(processes.apiPort(), token)) {
      second.subscribe(
          Map.of("type", "subscribe", "queryId", queryId, "after", lastSeen), "queryId");
      second.awaitUntil("query_completed", r -> r.has("query_completed"), QUERY_TIMEOUT);
      after = second.queryEvents(queryId);
    }
    assertThat(after).isNotEmpty();
    assertThat(RelayIds.compare(after.getFirst().event().path("id").asText(), lastSeen))
        .as("the catch-up starts after the last event seen")
        .isPositive();

    List<Received> union = new ArrayList<>(before);
    union.addAll(after);
    Run run = new Run(union);
    run.assertIdsUniqueAndOrdered();
    assertThat(run.last().path("type").asText()).isEqualTo("query_completed");
    assertThat(run.last().path("status").asText()).isEqualTo("COMPLETED");
    JsonNode persisted = query(api, token, queryId);
    assertThat(persisted.path("status").asText()).isEqualTo("COMPLETED");
    run.assertExact("soprano", persisted);
    System.out.printf(
        "[crash] api-server restart: %d events before, %d caught up after (query %s at"
            + " reconnect)%n",
        before.size(), after.size(), statusAtReconnect);
    assertThat(run.retries("soprano"))
        .as("the api-server's restart did not touch the answer's attempt")
        .isEmpty();

    // Nothing missed: a fresh client replaying the whole stream sees exactly the union.
    try (var replay = Recorder.connect(processes.apiPort(), token)) {
      replay.subscribe(Map.of("type", "subscribe", "queryId", queryId), "queryId");
      replay.awaitUntil("query_completed", r -> r.has("query_completed"), Duration.ofSeconds(30));
      assertThat(ids(union)).isEqualTo(ids(replay.queryEvents(queryId)));
    }
  }

  // ---------------------------------------------------------------------------------------------

  private static String send(
      ApiClient api,
      String token,
      UUID conversationId,
      String content,
      List<Map<String, ?>> agents) {
    var sent =
        api.call(
            "POST",
            "/api/conversations/" + conversationId + "/messages",
            token,
            Map.of("content", content, "agents", agents));
    assertThat(sent.status()).as(String.valueOf(sent.body())).isEqualTo(202);
    return sent.body().at("/query/id").asText();
  }

  private static JsonNode query(ApiClient api, String token, String queryId) {
    var response = api.call("GET", "/api/queries/" + queryId, token, null);
    assertThat(response.status()).isEqualTo(200);
    return response.body();
  }

  private static String type(Received r) {
    return r.event().path("type").asText();
  }

  private static List<String> ids(List<Received> events) {
    return events.stream().map(e -> e.event().path("id").asText()).toList();
  }

  private static String secs(Duration d) {
    return String.format("%.1f s", d.toMillis() / 1000.0);
  }

  /** An event and when it reached the client ({@link System#nanoTime()}). */
  record Received(long at, JsonNode event) {}

  /** The events one query produced, as one client (or two in a row) received them. */
  static final class Run {
    private final List<Received> events;

    Run(List<Received> events) {
      this.events = List.copyOf(events);
    }

    JsonNode last() {
      return events.getLast().event();
    }

    List<Received> of(String agent, String type) {
      return events.stream()
          .filter(e -> agent.equals(e.event().path("agent").asText()) && type(e).equals(type))
          .toList();
    }

    List<Received> retries(String agent) {
      return of(agent, "response_retrying");
    }

    /** The first delta of an attempt after {@code attempt} that arrived after {@code since}. */
    Received firstDeltaAfter(String agent, long since, int attempt) {
      return of(agent, "delta").stream()
          .filter(e -> e.at() > since && e.event().path("attempt").asInt() > attempt)
          .findFirst()
          .orElseThrow(() -> new AssertionError("no delta of a later attempt for " + agent));
    }

    /** One agent's events in short, deltas folded: {@code response_started(1) delta(1:0..57)}. */
    String trace(String agent) {
      List<String> out = new ArrayList<>();
      int deltaAttempt = -1;
      long first = 0;
      long last = 0;
      for (Received r : events) {
        JsonNode e = r.event();
        if (!agent.equals(e.path("agent").asText()) && !type(r).equals("query_completed")) {
          continue;
        }
        if (type(r).equals("delta") && e.path("attempt").asInt() == deltaAttempt) {
          last = e.path("seq").asLong();
          continue;
        }
        if (deltaAttempt >= 0) {
          out.add("delta(" + deltaAttempt + ":" + first + ".." + last + ")");
          deltaAttempt = -1;
        }
        if (type(r).equals("delta")) {
          deltaAttempt = e.path("attempt").asInt();
          first = e.path("seq").asLong();
          last = first;
        } else {
          String detail =
              e.has("attempt")
                  ? e.path("attempt").asText()
                  : e.has("status") ? e.path("status").asText() : "";
          out.add(type(r) + "(" + detail + ")");
        }
      }
      if (deltaAttempt >= 0) {
        out.add("delta(" + deltaAttempt + ":" + first + ".." + last + ")");
      }
      return String.join(" ", out);
    }

    void assertIdsUniqueAndOrdered() {
      List<String> ids = ids(events);
      assertThat(ids).doesNotHaveDuplicates().allSatisfy(id -> assertThat(id).matches("\\d+-\\d+"));
      for (int i = 1; i < ids.size(); i++) {
        assertThat(RelayIds.compare(ids.get(i - 1), ids.get(i)))
            .as("event %s comes after %s", ids.get(i), ids.get(i - 1))
            .isNegative();
      }
    }

    /**
     * The API.md invariant for one agent: the deltas, restarted at {@code resumeFrom} on every
     * {@code response_retrying}, give exactly the {@code response_completed} content, which is also
     * what PostgreSQL holds. Each attempt's deltas are numbered 0, 1, 2... with no gap or repeat,
     * and no delta of an attempt arrives once a later attempt was announced.
     */
    void assertExact(String agent, JsonNode persisted) {
      StringBuilder text = new StringBuilder();
      Map<Integer, Long> nextSeq = new HashMap<>();
      Set<String> seen = new HashSet<>();
      int current = 1;
      for (Received r : events) {
        JsonNode e = r.event();
        if (!agent.equals(e.path("agent").asText())) {
          continue;
        }
        switch (type(r)) {
          case "response_retrying" -> {
            current = Math.max(current, e.path("attempt").asInt());
            int resumeFrom = e.path("resumeFrom").asInt();
            assertThat(resumeFrom).isBetween(0, text.length());
            text.setLength(resumeFrom);
          }
          case "delta" -> {
            int attempt = e.path("attempt").asInt();
            long seq = e.path("seq").asLong();
            assertThat(seen.add(attempt + "/" + seq))
                .as("%s: delta (attempt %d, seq %d) arrived twice", agent, attempt, seq)
                .isTrue();
            assertThat(attempt)
                .as(
                    "%s: a delta of attempt %d after attempt %d began: %s",
                    agent, attempt, current, e)
                .isEqualTo(current);
            assertThat(seq)
                .as("%s: seq of attempt %d", agent, attempt)
                .isEqualTo(nextSeq.getOrDefault(attempt, 0L));
            nextSeq.put(attempt, seq + 1);
            text.append(e.path("text").asText());
          }
          default -> {}
        }
      }
      List<Received> completed = of(agent, "response_completed");
      assertThat(completed).as("%s completed once", agent).hasSize(1);
      String content = completed.getFirst().event().path("content").asText();
      assertThat(content).as("%s's answer", agent).isNotEmpty();
      assertThat(text.toString()).as("%s: assembled by the client", agent).isEqualTo(content);
      JsonNode response = null;
      for (JsonNode candidate : persisted.path("responses")) {
        if (agent.equals(candidate.path("agent").asText())) {
          response = candidate;
        }
      }
      assertThat(response).as("%s in GET /api/queries/{id}: %s", agent, persisted).isNotNull();
      assertThat(response.path("status").asText())
          .as("%s: persisted status (%s) after events %s", agent, response, trace(agent))
          .isEqualTo("COMPLETED");
      assertThat(response.path("content").asText()).as("%s: persisted", agent).isEqualTo(content);
    }
  }

  /** Redis stream ids ("millis-seq") in order. */
  static final class RelayIds {
    static int compare(String a, String b) {
      String[] x = a.split("-");
      String[] y = b.split("-");
      int c = Long.compare(Long.parseLong(x[0]), Long.parseLong(y[0]));
      return c != 0 ? c : Long.compare(Long.parseLong(x[1]), Long.parseLong(y[1]));
    }
  }

  /**
   * A WebSocket client that stamps every event with its arrival time and notices when the server
   * goes away (the shared WsClient does neither).
   */
  static final class Recorder implements WebSocket.Listener, AutoCloseable {
    private static final ObjectMapper JSON = ChorusJson.mapper();

    private final List<Received> received = new CopyOnWriteArrayList<>();
    private final StringBuilder partial = new StringBuilder();
    final CompletableFuture<String> closed = new CompletableFuture<>();
    private WebSocket socket;

    static Recorder connect(int port, String token) {
      var recorder = new Recorder();
      recorder.socket =
          HttpClient.newHttpClient()
              .newWebSocketBuilder()
              .buildAsync(URI.create("ws://127.0.0.1:" + port + "/ws?token=" + token), recorder)
              .join();
      recorder.awaitUntil("ready", r -> r.has("ready"), Duration.ofSeconds(10));
      return recorder;
    }

    void subscribe(Map<String, ?> frame) {
      subscribe(frame, "conversationId");
    }

    /** Sends a subscribe frame and waits for its acknowledgement. */
    void subscribe(Map<String, ?> frame, String key) {
      send(frame);
      String value = String.valueOf(frame.get(key));
      awaitUntil(
          "subscribed",
          r ->
              r.received.stream()
                  .anyMatch(e ->
                      type(e).equals("subscribed") && value.equals(e.event().path(key).asText())),
          Duration.ofSeconds(10));
    }

    void send(Map<String, ?> frame) {
      try {
        socket.sendText(JSON.writeValueAsString(frame), true).get(10, TimeUnit.SECONDS);
      } catch (Exception e) {
        throw new AssertionError("could not send " + frame, e);
      }
    }

    boolean has(String type) {
      return received.stream().anyMatch(e -> type(e).equals(type));
    }

    List<Received> deltas(String agent) {
      return received.stream()
          .filter(e -> type(e).equals("delta") && agent.equals(e.event().path("agent").asText()))
          .toList();
    }

    /** The events of one query, in arrival order (errors, acks and pongs are left out). */
    List<Received> queryEvents(String queryId) {
      return received.stream()
          .filter(e -> queryId.equals(e.event().path("queryId").asText()))
          .filter(e -> e.event().hasNonNull("id"))
          .toList();
    }

    Run run(String queryId) {
      return new Run(queryEvents(queryId));
    }

    void awaitUntil(String what, Predicate<Recorder> condition, Duration timeout) {
      await(what)
          .atMost(timeout)
          .pollInterval(Duration.ofMillis(20))
          .failFast("the WebSocket closed: " + closed.getNow(""), () -> errorOrClosed())
          .until(() -> condition.test(this));
    }

    private boolean errorOrClosed() {
      return closed.isDone() || has("error");
    }

    @Override
    public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
      partial.append(data);
      if (last) {
        long now = System.nanoTime();
        try {
          received.add(new Received(now, JSON.readTree(partial.toString())));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
          closed.complete("server sent invalid JSON: " + partial);
        }
        partial.setLength(0);
      }
      webSocket.request(1);
      return null;
    }

    @Override
    public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
      closed.complete(statusCode + " " + reason);
      return null;
    }

    @Override
    public void onError(WebSocket webSocket, Throwable error) {
      closed.complete(error.toString());
    }

    @Override
    public void close() {
      if (!closed.isDone()) {
        socket.sendClose(WebSocket.NORMAL_CLOSURE, "bye");
      }
    }
  }
}
