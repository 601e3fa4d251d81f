package dev.chorus.api.ws;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.chorus.api.auth.AuthService;
import dev.chorus.api.auth.Authenticated;
import dev.chorus.api.auth.CurrentUser;
import dev.chorus.api.common.ApiException;
import dev.chorus.api.common.NotFoundException;
import dev.chorus.api.conversation.ConversationStore;
import dev.chorus.api.notify.UserEvents;
import dev.chorus.api.query.QueryService;
import dev.chorus.api.stream.RelayedEvent;
import dev.chorus.model.agent.AgentSpec;
import dev.chorus.model.notify.UserEvent;
import dev.chorus.model.notify.UserNotice;
import dev.chorus.model.workflow.QueryPolicy;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;
import org.springframework.web.socket.CloseStatus;
import org.springframework.web.socket.PongMessage;
import org.springframework.web.socket.TextMessage;
import org.springframework.web.socket.WebSocketSession;
import org.springframework.web.socket.handler.ConcurrentWebSocketSessionDecorator;
import org.springframework.web.socket.handler.TextWebSocketHandler;
import org.springframework.web.util.UriComponentsBuilder;

/**
 * The {@code /ws} protocol of API.md, documented in docs/websocket.md and docs/asyncapi.yaml.
 * Authenticated by {@code ?token=} or a first {@code auth} frame; a bad frame gets an {@code error}
 * event and the connection stays open. A watchdog closes connections that never authenticate or
 * stop answering the heartbeat, so dead peers do not hold subscriptions.
 */
@Component
class ChatWebSocketHandler extends TextWebSocketHandler implements SmartLifecycle {
  private static final Logger log = LoggerFactory.getLogger(ChatWebSocketHandler.class);
  private static final TypeReference<List<AgentSpec>> AGENTS = new TypeReference<>() {};

  private final AuthService auth;
  private final SubscriptionHub hub;
  private final QueryService queries;
  private final ConversationStore conversations;
  private final ObjectMapper json;
  private final WebSocketProperties properties;
  private final UserEvents userEvents;
  private final Map<String, SessionState> connections = new ConcurrentHashMap<>();
  private volatile ScheduledExecutorService watchdog;

  ChatWebSocketHandler(
      AuthService auth,
      SubscriptionHub hub,
      QueryService queries,
      ConversationStore conversations,
      ObjectMapper json,
      WebSocketProperties properties,
      UserEvents userEvents,
      MeterRegistry meters) {
    this.auth = auth;
    this.hub = hub;
    this.queries = queries;
    this.conversations = conversations;
    this.json = json;
    this.properties = properties;
    this.userEvents = userEvents;
    Gauge.builder("chorus.ws.sessions", connections, Map::size)
        .description("Open WebSocket connections on this api-server")
        .register(meters);
  }

  @Override
  public void afterConnectionEstablished(WebSocketSession raw) {
    // One writer at a time, a bounded buffer, and a slow client is dropped rather than grown.
    var session =
        new ConcurrentWebSocketSessionDecorator(
            raw,
            (int) properties.sendTimeLimit().toMillis(),
            properties.sendBufferBytes(),
            ConcurrentWebSocketSessionDecorator.OverflowStrategy.TERMINATE);
    Authenticated authenticated = null;
    if (raw.getUri() != null) {
      String token =
          UriComponentsBuilder.fromUri(raw.getUri()).build().getQueryParams().getFirst("token");
      if (token != null) {
        authenticated = auth.resolve(token).orElse(null);
        if (authenticated == null) {
          closeQuietly(raw, new CloseStatus(Frames.CLOSE_UNAUTHORIZED, "invalid token"));
          return;
        }
      }
    }
    // Unauthenticated until ready() has joined the user's notice channel.
    var state =
        new SessionState(new ClientConnection(session, null), userEvents.origin(raw.getId()));
    connections.put(raw.getId(), state);
    if (authenticated != null) {
      try {
        ready(state, authenticated);
      } catch (RuntimeException e) {
        log.warn("websocket session could not start: {}", e.toString());
        state.connection.close(CloseStatus.SERVER_ERROR.withReason("try again"));
      }
    }
  }

  @Override
  protected void handlePongMessage(WebSocketSession raw, PongMessage message) {
    SessionState state = connections.get(raw.getId());
    if (state != null) {
      state.seen();
    }
  }

  /**
   * Tomcat hands over a client's message in parts no bigger than its small per-session read buffer
   * (see {@link WebSocketConfig}); {@link SessionState#receive} puts them together up to {@code
   * chorus.ws.max-frame-bytes}.
   */
  @Override
  public boolean supportsPartialMessages() {
    return true;
  }

  @Override
  protected void handleTextMessage(WebSocketSession raw, TextMessage message) {
    SessionState state = connections.get(raw.getId());
    if (state == null) {
      return;
    }
    state.seen();
    String text;
    try {
      text = state.receive(message.getPayload(), message.isLast(), properties.maxFrameBytes());
    } catch (SessionState.MessageTooBig e) {
      state.connection.close(CloseStatus.TOO_BIG_TO_PROCESS.withReason(e.getMessage()));
      return;
    }
    if (text != null) {
      handleFrame(state, text);
    }
  }

  private void handleFrame(SessionState state, String text) {
    ClientConnection connection = state.connection;
    JsonNode frame;
    try {
      frame = json.readTree(text);
    } catch (JsonProcessingException e) {
      error(connection, "bad_frame", "frame is not valid JSON", null);
      return;
    }
    if (frame == null || !frame.isObject() || !frame.path("type").isTextual()) {
      error(connection, "bad_frame", "frame must be a JSON object with a \"type\"", null);
      return;
    }
    String type = frame.get("type").asText();
    var kind = Frames.Client.of(type);
    try {
      if (kind.isEmpty()) {
        error(connection, "unknown_type", "unknown frame type '" + clip(type) + "'", null);
      } else if (kind.get() == Frames.Client.AUTH) {
        authenticate(state, frame);
      } else if (connection.user() == null) {
        error(connection, "unauthorized", "send an auth frame first", type);
      } else if (!connection.canWrite() && (type.equals("send_message") || type.equals("cancel"))) {
        error(connection, "insufficient_scope", "this token has only the read scope", type);
      } else {
        switch (kind.get()) {
          case SUBSCRIBE -> subscribe(state, frame);
          case UNSUBSCRIBE -> unsubscribe(state, frame);
          case SEND_MESSAGE -> sendMessage(state, frame);
          case CANCEL -> cancel(connection, frame);
          case TYPING -> typing(state, frame);
          case PING -> send(connection, Map.of("type", Frames.Server.PONG.wire));
          case AUTH -> throw new IllegalStateException("handled above");
        }
      }
    } catch (NotFoundException e) {
      error(connection, "not_found", e.getMessage(), type);
    } catch (ApiException e) {
      error(connection, e.type(), e.getMessage(), type);
    } catch (IllegalArgumentException e) {
      error(connection, "bad_frame", e.getMessage(), type);
    } catch (RuntimeException e) {
      log.warn("websocket frame '{}' failed", type, e);
      error(connection, "internal", "the server could not handle this frame", type);
    }
  }

  /** Echoes at most a short, printable prefix of what a client sent. */
  private static String clip(String text) {
    String printable = text.replaceAll("\\p{Cntrl}", "?");
    return printable.length() <= 40 ? printable : printable.substring(0, 40) + "…";
  }

  private void authenticate(SessionState state, JsonNode frame) {
    ClientConnection connection = state.connection;
    if (connection.user() != null) {
      error(connection, "already_authenticated", "this connection is authenticated", "auth");
      return;
    }
    var authenticated = auth.resolve(frame.path("token").asText(null));
    if (authenticated.isEmpty()) {
      if (state.failedAuth() >= properties.maxAuthAttempts()) {
        connection.close(
            new CloseStatus(Frames.CLOSE_UNAUTHORIZED, "too many failed authentications"));
      } else {
        error(connection, "unauthorized", "invalid token", "auth");
      }
      return;
    }
    ready(state, authenticated.get());
  }

  /**
   * Joins the user's notice channel before the connection counts as authenticated and says {@code
   * ready}: a client that subscribes right after {@code ready} misses nothing published afterwards,
   * and if joining fails the connection stays unauthenticated.
   */
  private void ready(SessionState state, Authenticated authenticated) {
    ClientConnection connection = state.connection;
    CurrentUser user = authenticated.user();
    state.notices = userEvents.listen(user.id(), (n, wire) -> notice(state, n, wire));
    // A read-only personal access token may subscribe, not send or cancel.
    connection.authenticate(user, authenticated.token().canWrite());
    hub.add(connection);
    send(connection, Map.of("type", Frames.Server.READY.wire, "userId", user.id()));
  }

  /**
   * A typing notice goes to the user's other sessions that show the conversation; the list notices
   * to sessions subscribed to the conversations channel.
   */
  private static void notice(SessionState state, UserNotice notice, String wire) {
    if (notice.event() instanceof UserEvent.Typing typing) {
      if (state.origin.equals(notice.origin())
          || !state.connection.conversations.contains(typing.conversationId())) {
        return;
      }
    } else if (!state.conversationList) {
      return;
    }
    state.connection.send(wire);
  }

  private void subscribe(SessionState state, JsonNode frame) {
    ClientConnection connection = state.connection;
    UUID userId = connection.user().id();
    String after = frame.path("after").asText(null);
    if (after != null && !RelayedEvent.isValidId(after)) {
      throw new IllegalArgumentException("after must be an event id");
    }
    if (frame.hasNonNull("channel")) {
      channel(frame);
      state.conversationList = true;
      send(
          connection,
          Map.of("type", Frames.Server.SUBSCRIBED.wire, "channel", Frames.CONVERSATIONS_CHANNEL));
    } else if (frame.hasNonNull("queryId")) {
      UUID queryId = uuid(frame, "queryId");
      var query = queries.get(userId, queryId);
      if (!connection.queries.contains(queryId)) {
        checkSubscriptionLimit(state);
      }
      hub.subscribeQuery(connection, query.id(), query.conversationId(), after);
      send(connection, Map.of("type", Frames.Server.SUBSCRIBED.wire, "queryId", query.id()));
    } else if (frame.hasNonNull("conversationId")) {
      UUID conversationId = uuid(frame, "conversationId");
      conversations
          .find(userId, conversationId)
          .orElseThrow(() -> new NotFoundException("conversation"));
      if (!connection.conversations.contains(conversationId)) {
        checkSubscriptionLimit(state);
      }
      hub.subscribeConversation(connection, conversationId, after);
      send(
          connection,
          Map.of("type", Frames.Server.SUBSCRIBED.wire, "conversationId", conversationId));
    } else {
      throw new IllegalArgumentException(
          "subscribe needs a conversationId, a queryId or a channel");
    }
  }

  private static void channel(JsonNode frame) {
    if (!Frames.CONVERSATIONS_CHANNEL.equals(frame.path("channel").asText())) {
      throw new IllegalArgumentException(
          "unknown channel; the only channel is \"" + Frames.CONVERSATIONS_CHANNEL + "\"");
    }
  }

  private void checkSubscriptionLimit(SessionState state) {
    if (state.subscriptions() >= properties.maxSubscriptions()) {
      throw new ApiException(
          org.springframework.http.HttpStatus.TOO_MANY_REQUESTS,
          "too_many_subscriptions",
          "a connection may hold "
              + properties.maxSubscriptions()
              + " subscriptions; unsubscribe from one first or open another connection");
    }
  }

  private void unsubscribe(SessionState state, JsonNode frame) {
    ClientConnection connection = state.connection;
    Map<String, Object> ack = new LinkedHashMap<>();
    ack.put("type", Frames.Server.UNSUBSCRIBED.wire);
    if (frame.hasNonNull("channel")) {
      channel(frame);
      state.conversationList = false;
      ack.put("channel", Frames.CONVERSATIONS_CHANNEL);
    } else if (frame.hasNonNull("queryId")) {
      UUID queryId = uuid(frame, "queryId");
      connection.queries.remove(queryId);
      ack.put("queryId", queryId);
    } else if (frame.hasNonNull("conversationId")) {
      UUID conversationId = uuid(frame, "conversationId");
      connection.conversations.remove(conversationId);
      ack.put("conversationId", conversationId);
    } else {
      throw new IllegalArgumentException(
          "unsubscribe needs a conversationId, a queryId or a channel");
    }
    send(connection, ack);
  }

  /**
   * Relays "the user is typing" to the user's other sessions on any instance. Throttled per
   * conversation before the ownership check, so a keystroke storm costs no database reads.
   */
  private void typing(SessionState state, JsonNode frame) {
    UUID conversationId = uuid(frame, "conversationId");
    if (!state.mayRelayTyping(conversationId, properties.typingInterval())) {
      return;
    }
    UUID userId = state.connection.user().id();
    conversations
        .find(userId, conversationId)
        .orElseThrow(() -> new NotFoundException("conversation"));
    userEvents.publish(userId, state.origin, new UserEvent.Typing(conversationId));
  }

  private void sendMessage(SessionState state, JsonNode frame) {
    ClientConnection connection = state.connection;
    UUID conversationId = uuid(frame, "conversationId");
    List<AgentSpec> agents = null;
    if (frame.hasNonNull("agents")) {
      try {
        agents = json.convertValue(frame.get("agents"), AGENTS);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("agents must be a list of agents");
      }
    }
    QueryPolicy policy = null;
    if (frame.hasNonNull("policy")) {
      try {
        policy = json.convertValue(frame.get("policy"), QueryPolicy.class);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(
            "policy must be an object of whole numbers and the strings mode and synthesizer");
      }
    }
    String clientMessageId = frame.path("clientMessageId").asText(null);
    var sent =
        queries.send(
            connection.user().id(),
            conversationId,
            frame.path("content").asText(null),
            agents,
            policy,
            clientMessageId == null ? null : "ws:" + clientMessageId);
    if (!connection.conversations.contains(conversationId)) {
      hub.subscribeQuery(connection, sent.query().id(), conversationId, null);
    }
    Map<String, Object> ack = new LinkedHashMap<>();
    ack.put("type", Frames.Server.MESSAGE_ACCEPTED.wire);
    if (clientMessageId != null) {
      ack.put("clientMessageId", clientMessageId);
    }
    ack.put("message", sent.message());
    ack.put("query", sent.query());
    send(connection, ack);
  }

  private void cancel(ClientConnection connection, JsonNode frame) {
    var accepted =
        queries.cancel(
            connection.user().id(), uuid(frame, "queryId"), frame.path("agent").asText(null));
    Map<String, Object> ack = new LinkedHashMap<>();
    ack.put("type", Frames.Server.CANCEL_ACCEPTED.wire);
    ack.put("queryId", accepted.queryId());
    if (accepted.agent() != null) {
      ack.put("agent", accepted.agent());
    }
    send(connection, ack);
  }

  private static UUID uuid(JsonNode frame, String field) {
    try {
      return UUID.fromString(frame.path(field).asText(""));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(field + " must be a UUID");
    }
  }

  private void error(ClientConnection connection, String code, String message, String frameType) {
    Map<String, Object> event = new LinkedHashMap<>();
    event.put("type", Frames.Server.ERROR.wire);
    event.put("code", code);
    event.put("message", message);
    if (frameType != null) {
      event.put("frameType", frameType);
    }
    send(connection, event);
  }

  private void send(ClientConnection connection, Map<String, ?> event) {
    try {
      connection.send(json.writeValueAsString(event));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public void afterConnectionClosed(WebSocketSession raw, CloseStatus status) {
    SessionState state = connections.remove(raw.getId());
    if (state != null) {
      hub.remove(state.connection);
      var notices = state.notices;
      if (notices != null) {
        notices.close();
      }
    }
  }

  private static void closeQuietly(WebSocketSession session, CloseStatus status) {
    try {
      session.close(status);
    } catch (java.io.IOException ignored) {
      // The peer is gone already.
    }
  }

  /**
   * Closes connections that never authenticated or went silent, and heartbeats the rest: a
   * WebSocket ping (answered by browsers without any code) plus a {@code heartbeat} event for
   * clients that cannot see pings.
   */
  void watch() {
    long now = System.nanoTime();
    for (SessionState state : connections.values()) {
      try {
        ClientConnection connection = state.connection;
        if (connection.user() == null) {
          if (now - state.connectedAtNanos >= properties.authTimeout().toNanos()) {
            connection.close(new CloseStatus(Frames.CLOSE_TIMEOUT, "authentication timeout"));
          }
        } else if (now - state.lastSeenNanos >= properties.idleTimeout().toNanos()) {
          connection.close(new CloseStatus(Frames.CLOSE_TIMEOUT, "idle: no pong or frame"));
        } else if (now - state.lastHeartbeatNanos >= properties.heartbeatInterval().toNanos()) {
          state.lastHeartbeatNanos = now;
          connection.ping();
          send(
              connection,
              Map.of("type", Frames.Server.HEARTBEAT.wire, "at", Instant.now().toString()));
        }
      } catch (RuntimeException e) {
        log.warn("websocket watchdog failed for a connection: {}", e.toString());
      }
    }
  }

  @Override
  public void start() {
    // Fine enough that every timeout fires within a quarter of its length (at most a second late).
    long shortest =
        Math.min(
            properties.heartbeatInterval().toMillis(),
            Math.min(properties.authTimeout().toMillis(), properties.idleTimeout().toMillis()));
    long tick = Math.clamp(shortest / 4, 50, 1000);
    var executor =
        Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().name("ws-watchdog").daemon().factory());
    executor.scheduleWithFixedDelay(this::watch, tick, tick, TimeUnit.MILLISECONDS);
    watchdog = executor;
  }

  @Override
  public void stop() {
    var executor = watchdog;
    watchdog = null;
    if (executor != null) {
      executor.shutdownNow();
    }
  }

  @Override
  public boolean isRunning() {
    return watchdog != null;
  }
}
