package dev.chorus.api.ws;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.chorus.api.ApiServerApplication;
import dev.chorus.api.support.ApiClient;
import dev.chorus.api.support.Stack;
import dev.chorus.api.support.WsClient;
import io.temporal.client.WorkflowClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.boot.web.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.test.context.ActiveProfiles;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * The WebSocket protocol around the query streams, with real clients against two real api-server
 * instances (this test's context and a second one on another port, sharing PostgreSQL, Redis and
 * the key prefix): typing, the conversation-list channel, heartbeats and timeouts, origin and size
 * limits, malformed frames and the auth frame. Short timeouts make the watchdog testable.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@ActiveProfiles("test")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class WebSocketProtocolIT {
  private static final Duration WAIT = Duration.ofSeconds(10);
  private static final String PREFIX = "test-ws-" + UUID.randomUUID();
  private static final String[] SETTINGS = {
    "chorus.stream.key-prefix=" + PREFIX,
    "chorus.ws.heartbeat-interval=1s",
    "chorus.ws.idle-timeout=3s",
    "chorus.ws.auth-timeout=2s",
    "chorus.ws.max-frame-bytes=4096",
    "chorus.ws.max-subscriptions=3",
    "chorus.ws.typing-interval=1500ms",
  };

  @DynamicPropertySource
  static void settings(DynamicPropertyRegistry registry) {
    for (String setting : SETTINGS) {
      String[] kv = setting.split("=", 2);
      registry.add(kv[0], () -> kv[1]);
    }
  }

  @LocalServerPort int port;
  @Autowired WorkflowClient workflowClient;
  @Autowired JdbcClient jdbc;
  private ConfigurableApplicationContext second;
  private int secondPort;
  private final List<String> startedWorkflows = new ArrayList<>();

  @BeforeAll
  static void stackIsUp() {
    Stack.require();
  }

  /** The default agent's provider, as a worker would have registered it. */
  @BeforeAll
  void mockProviderIsServed() {
    jdbc.sql(
            """
            INSERT INTO providers (id, kind, server_configured, health, health_detail, checked_at)
            VALUES ('mock', 'mock', true, 'UP', '2 models', now())
            ON CONFLICT (id) DO UPDATE SET server_configured = true, health = 'UP'
            """)
        .update();
  }

  @BeforeAll
  void startSecondInstance() {
    List<String> args = new ArrayList<>(List.of("--server.port=0"));
    for (String setting : SETTINGS) {
      args.add("--" + setting);
    }
    second =
        new SpringApplicationBuilder(ApiServerApplication.class)
            .profiles("test")
            .run(args.toArray(String[]::new));
    secondPort = ((WebServerApplicationContext) second).getWebServer().getPort();
  }

  @AfterAll
  void stopSecondInstance() {
    for (String id : startedWorkflows) {
      try {
        workflowClient.newUntypedWorkflowStub(id).terminate("test cleanup");
      } catch (RuntimeException alreadyDone) {
        // Finished or never started.
      }
    }
    if (second != null) {
      second.close();
    }
  }

  private static WsClient connect(int port, String token) {
    var ws = new WsClient(port, token);
    ws.await("ready", WAIT);
    return ws;
  }

  private static void subscribe(WsClient ws, Map<String, String> target) {
    var frame = new java.util.HashMap<String, String>(target);
    frame.put("type", "subscribe");
    ws.send(frame);
    ws.await("subscribed", WAIT);
  }

  /** Everything the server sent before answering a ping, heartbeats left out. */
  private static List<JsonNode> drain(WsClient ws) {
    ws.send(Map.of("type", "ping"));
    return ws.collectUntil(e -> e.path("type").asText().equals("pong"), WAIT).stream()
        .filter(e -> !e.path("type").asText().equals("heartbeat"))
        .filter(e -> !e.path("type").asText().equals("pong"))
        .toList();
  }

  private static List<String> types(List<JsonNode> events) {
    return events.stream().map(e -> e.path("type").asText()).toList();
  }

  @Test
  void typingReachesTheUsersOtherSessionsOnEveryInstanceButNotTheSenderNorOthers() {
    var api = new ApiClient(port);
    String token = api.register();
    String stranger = api.register();
    UUID conversation = api.createConversation(token);
    UUID strangersConversation = api.createConversation(stranger);
    var conv = Map.of("conversationId", conversation.toString());
    try (var sender = connect(port, token);
        var sameInstance = connect(port, token);
        var otherInstance = connect(secondPort, token);
        var notWatching = connect(secondPort, token);
        var other = connect(secondPort, stranger)) {
      subscribe(sender, conv);
      subscribe(sameInstance, conv);
      subscribe(otherInstance, conv);
      subscribe(other, Map.of("conversationId", strangersConversation.toString()));

      sender.send(Map.of("type", "typing", "conversationId", conversation.toString()));
      assertThat(otherInstance.await("typing", WAIT).path("conversationId").asText())
          .isEqualTo(conversation.toString());
      assertThat(sameInstance.await("typing", WAIT).path("conversationId").asText())
          .isEqualTo(conversation.toString());
      // One delivery thread per instance decided for all its sessions before sameInstance got it.
      assertThat(types(drain(sender))).doesNotContain("typing");
      assertThat(types(drain(notWatching))).doesNotContain("typing");
      assertThat(types(drain(other))).doesNotContain("typing");

      // Another user cannot type into this conversation, and is told so.
      other.send(Map.of("type", "typing", "conversationId", conversation.toString()));
      var error = other.await("error", WAIT);
      assertThat(error.path("code").asText()).isEqualTo("not_found");
      assertThat(types(drain(otherInstance))).doesNotContain("typing");
    }
  }

  @Test
  void typingIsThrottledPerConversation() {
    var api = new ApiClient(port);
    String token = api.register();
    UUID conversation = api.createConversation(token);
    var typing = Map.of("type", "typing", "conversationId", conversation.toString());
    try (var sender = connect(port, token);
        var watcher = connect(secondPort, token)) {
      subscribe(watcher, Map.of("conversationId", conversation.toString()));
      for (int i = 0; i < 10; i++) {
        sender.send(typing);
      }
      watcher.await("typing", WAIT);
      // The other nine were dropped: for half a second nothing more reaches the watcher.
      org.awaitility.Awaitility.await()
          .during(Duration.ofMillis(500))
          .atMost(Duration.ofSeconds(3))
          .until(() -> !types(drain(watcher)).contains("typing"));
      assertThat(types(drain(sender))).as("throttled typing is not an error").isEmpty();

      // Once the interval has passed, typing goes through again.
      org.awaitility.Awaitility.await()
          .atMost(WAIT)
          .pollInterval(Duration.ofMillis(300))
          .until(() -> {
            sender.send(typing);
            return types(drain(watcher)).contains("typing");
          });
    }
  }

  @Test
  void conversationListChannelCarriesTheUsersChangesAcrossInstances() {
    var api = new ApiClient(port);
    String token = api.register();
    String stranger = api.register();
    var channel = Map.of("channel", "conversations");
    try (var here = connect(port, token);
        var there = connect(secondPort, token);
        var notListening = connect(secondPort, token);
        var other = connect(port, stranger)) {
      subscribe(here, channel);
      subscribe(there, channel);
      subscribe(other, channel);

      var created =
          api.call("POST", "/api/conversations", token, Map.of("title", "Plans for Tuesday"));
      assertThat(created.status()).isEqualTo(201);
      String conversationId = created.body().get("id").asText();
      for (var ws : List.of(here, there)) {
        var event = ws.await("conversation_created", WAIT);
        assertThat(event.path("conversationId").asText()).isEqualTo(conversationId);
        assertThat(event.at("/conversation/id").asText()).isEqualTo(conversationId);
        assertThat(event.at("/conversation/title").asText()).isEqualTo("Plans for Tuesday");
      }

      var sent =
          api.sendMessage(token, UUID.fromString(conversationId), Map.of("content", "hello"));
      assertThat(sent.status()).isEqualTo(202);
      startedWorkflows.add(sent.body().at("/query/workflowId").asText());
      String queryId = sent.body().at("/query/id").asText();
      for (var ws : List.of(here, there)) {
        var status = ws.await("query_status", WAIT);
        assertThat(status.path("queryId").asText()).isEqualTo(queryId);
        assertThat(status.path("conversationId").asText()).isEqualTo(conversationId);
        assertThat(status.path("status").asText()).isEqualTo("PENDING");
      }
      assertThat(types(drain(notListening))).isEmpty();
      assertThat(types(drain(other))).isEmpty();

      there.send(Map.of("type", "unsubscribe", "channel", "conversations"));
      there.await("unsubscribed", WAIT);
      api.createConversation(token);
      here.await("conversation_created", WAIT);
      assertThat(types(drain(there))).isEmpty();
    }
  }

  @Test
  void originsOutsideTheAllowListAreRefusedAtTheHandshake() throws Exception {
    String token = new ApiClient(port).register();
    try (var evil =
        new RawWebSocket(port, "/ws?token=" + token, Map.of("Origin", "https://evil.example"))) {
      assertThat(evil.handshakeStatus).isEqualTo(403);
    }
    try (var local =
        new RawWebSocket(port, "/ws?token=" + token, Map.of("Origin", "http://localhost:5173"))) {
      assertThat(local.handshakeStatus).isEqualTo(101);
      assertThat(local.read(WAIT).text()).contains("\"ready\"");
    }
    try (var script = new RawWebSocket(port, "/ws?token=" + token, Map.of())) {
      assertThat(script.handshakeStatus).as("no Origin: not a browser").isEqualTo(101);
    }
  }

  /** A browser offers compression; taking it would cost ~150 KB of native memory per client. */
  @Test
  void permessageDeflateIsDeclinedAndTheSessionWorksUncompressed() throws Exception {
    String token = new ApiClient(port).register();
    try (var browser =
        new RawWebSocket(
            port,
            "/ws?token=" + token,
            Map.of(
                "Origin", "http://localhost:5173",
                "Sec-WebSocket-Extensions", "permessage-deflate; client_max_window_bits"))) {
      assertThat(browser.handshakeStatus).isEqualTo(101);
      assertThat(browser.handshakeHeaders).containsKey("upgrade");
      assertThat(browser.handshakeHeaders).doesNotContainKey("sec-websocket-extensions");
      assertThat(browser.read(WAIT).text()).contains("\"ready\"");
      browser.sendText("{\"type\":\"ping\"}");
      assertThat(browser.read(WAIT).text()).contains("\"pong\"");
    }
  }

  @Test
  void anOversizedFrameClosesWith1009() throws Exception {
    String token = new ApiClient(port).register();
    try (var ws = new RawWebSocket(port, "/ws?token=" + token, Map.of())) {
      assertThat(ws.read(WAIT).text()).contains("\"ready\"");
      ws.sendText("{\"type\":\"ping\",\"pad\":\"" + "x".repeat(3000) + "\"}");
      assertThat(ws.read(WAIT).text()).contains("\"pong\"");
      ws.sendText("{\"type\":\"ping\",\"pad\":\"" + "x".repeat(5000) + "\"}");
      assertThat(ws.awaitClose(WAIT)).isEqualTo(1009);
    }
  }

  /**
   * Tomcat hands a message over in parts of its small read buffer; the handler assembles them up to
   * the limit (4096 characters here), whether the client sent one frame or several.
   */
  @Test
  void largeAndFragmentedMessagesUpToTheLimitAreAssembled() throws Exception {
    String token = new ApiClient(port).register();
    try (var ws = new RawWebSocket(port, "/ws?token=" + token, Map.of())) {
      assertThat(ws.read(WAIT).text()).contains("\"ready\"");
      // Multi-byte and surrogate-pair characters across the part boundaries; 4096 UTF-16 units.
      String head = "{\"type\":\"ping\",\"pad\":\"";
      String pad = "é🎵x".repeat((4096 - head.length() - 2) / 4);
      String frame = head + pad + "x".repeat(4096 - head.length() - 2 - pad.length()) + "\"}";
      assertThat(frame).hasSize(4096);
      ws.sendText(frame);
      assertThat(ws.read(WAIT).text()).contains("\"pong\"");
      ws.sendFragments(head, "ab".repeat(1000), "é".repeat(1500), "🎵".repeat(200), "\"}");
      assertThat(ws.read(WAIT).text()).contains("\"pong\"");
      ws.sendFragments("{\"type\":", "\"ping\"}");
      assertThat(ws.read(WAIT).text()).contains("\"pong\"");
      // Over the limit from its third fragment on: closed before the message ends.
      ws.sendFragments(head, "x".repeat(4000), "x".repeat(100), "\"}");
      assertThat(ws.awaitClose(WAIT)).isEqualTo(1009);
    }
  }

  @Test
  void malformedFramesGetAnErrorAndTheConnectionStays() {
    var api = new ApiClient(port);
    String token = api.register();
    try (var ws = connect(port, token)) {
      ws.send("{oops");
      assertThat(ws.await("error", WAIT).path("code").asText()).isEqualTo("bad_frame");
      ws.send("[1,2]");
      assertThat(ws.await("error", WAIT).path("code").asText()).isEqualTo("bad_frame");
      ws.send(Map.of("kind", "ping"));
      assertThat(ws.await("error", WAIT).path("code").asText()).isEqualTo("bad_frame");
      ws.send(Map.of("type", "dance"));
      var unknown = ws.await("error", WAIT);
      assertThat(unknown.path("code").asText()).isEqualTo("unknown_type");
      assertThat(unknown.path("message").asText()).contains("dance");
      ws.send(Map.of("type", "typing"));
      var missing = ws.await("error", WAIT);
      assertThat(missing.path("code").asText()).isEqualTo("bad_frame");
      assertThat(missing.path("message").asText()).contains("conversationId");
      assertThat(missing.path("frameType").asText()).isEqualTo("typing");
      ws.send(Map.of("type", "subscribe", "channel", "everything"));
      assertThat(ws.await("error", WAIT).path("message").asText()).contains("conversations");
      ws.send(Map.of("type", "subscribe"));
      assertThat(ws.await("error", WAIT).path("code").asText()).isEqualTo("bad_frame");
      ws.send(Map.of("type", "ping"));
      ws.await("pong", WAIT);
    }
  }

  @Test
  void subscriptionsPerConnectionAreLimited() {
    var api = new ApiClient(port);
    String token = api.register();
    UUID a = api.createConversation(token);
    UUID b = api.createConversation(token);
    UUID c = api.createConversation(token);
    try (var ws = connect(port, token)) {
      subscribe(ws, Map.of("channel", "conversations"));
      subscribe(ws, Map.of("conversationId", a.toString()));
      subscribe(ws, Map.of("conversationId", b.toString()));
      subscribe(ws, Map.of("conversationId", b.toString())); // again: no new subscription
      ws.send(Map.of("type", "subscribe", "conversationId", c.toString()));
      assertThat(ws.await("error", WAIT).path("code").asText()).isEqualTo("too_many_subscriptions");
      ws.send(Map.of("type", "unsubscribe", "conversationId", a.toString()));
      ws.await("unsubscribed", WAIT);
      subscribe(ws, Map.of("conversationId", c.toString()));
    }
  }

  @Test
  void theAuthFrameIsTheOnlyFrameAcceptedBeforeAuthentication() throws Exception {
    var api = new ApiClient(port);
    String token = api.register();
    try (var ws = new WsClient(port, null)) {
      ws.send(Map.of("type", "ping"));
      assertThat(ws.await("error", WAIT).path("code").asText()).isEqualTo("unauthorized");
      ws.send(Map.of("type", "subscribe", "channel", "conversations"));
      assertThat(ws.await("error", WAIT).path("code").asText()).isEqualTo("unauthorized");
      ws.send(Map.of("type", "auth", "token", "chs_wrong"));
      assertThat(ws.await("error", WAIT).path("code").asText()).isEqualTo("unauthorized");
      ws.send(Map.of("type", "auth", "token", token));
      ws.await("ready", WAIT);
      ws.send(Map.of("type", "auth", "token", token));
      assertThat(ws.await("error", WAIT).path("code").asText()).isEqualTo("already_authenticated");
      subscribe(ws, Map.of("channel", "conversations"));
    }
    try (var ws = new RawWebSocket(port, "/ws", Map.of())) {
      for (int i = 0; i < 3; i++) {
        ws.sendText("{\"type\":\"auth\",\"token\":\"chs_guess-" + i + "\"}");
      }
      assertThat(ws.awaitClose(WAIT)).as("third failed auth").isEqualTo(4401);
    }
    try (var ws = new RawWebSocket(port, "/ws?token=chs_wrong", Map.of())) {
      assertThat(ws.awaitClose(WAIT)).isEqualTo(4401);
    }
    try (var ws = new RawWebSocket(port, "/ws", Map.of())) {
      long start = System.nanoTime();
      assertThat(ws.awaitClose(WAIT)).as("auth timeout").isEqualTo(4408);
      assertThat(Duration.ofNanos(System.nanoTime() - start))
          .isBetween(Duration.ofMillis(1500), Duration.ofSeconds(4));
    }
  }

  @Test
  void heartbeatsKeepAnsweringClientsAliveAndSilentOnesAreClosed() throws Exception {
    String token = new ApiClient(port).register();
    long start = System.nanoTime(); // before the handshake: the idle clock starts after it
    try (var silent = new RawWebSocket(port, "/ws?token=" + token, Map.of());
        var ws = connect(port, token)) {
      // The JDK client answers pings by itself, like a browser.
      var heartbeat = ws.await("heartbeat", WAIT);
      assertThat(heartbeat.path("at").asText()).endsWith("Z");
      boolean pinged = false;
      while (true) {
        var frame = silent.read(WAIT);
        if (frame.opcode() == RawWebSocket.PING) {
          pinged = true;
        }
        if (frame.opcode() == RawWebSocket.CLOSE) {
          assertThat(frame.closeCode()).isEqualTo(4408);
          break;
        }
      }
      assertThat(pinged).as("the server pinged before giving up").isTrue();
      assertThat(Duration.ofNanos(System.nanoTime() - start))
          .isBetween(Duration.ofMillis(2000), Duration.ofSeconds(6));
      // Well past the 3 s idle timeout, the answering client is still served.
      ws.await("heartbeat", WAIT);
      ws.send(Map.of("type", "ping"));
      ws.await("pong", WAIT);
    }
  }
}
