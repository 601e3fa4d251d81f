package dev.chorus.api.ws;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.chorus.api.auth.AuthService;
import dev.chorus.api.auth.Authenticated;
import dev.chorus.api.common.ApiException;
import dev.chorus.api.common.NotFoundException;
import dev.chorus.api.conversation.ConversationStore;
import dev.chorus.api.query.QueryService;
import dev.chorus.api.stream.RelayedEvent;
import dev.chorus.model.agent.AgentSpec;
import dev.chorus.model.workflow.QueryPolicy;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;
import org.springframework.web.socket.CloseStatus;
import org.springframework.web.socket.TextMessage;
import org.springframework.web.socket.WebSocketSession;
import org.springframework.web.socket.handler.ConcurrentWebSocketSessionDecorator;
import org.springframework.web.socket.handler.TextWebSocketHandler;
import org.springframework.web.util.UriComponentsBuilder;

/**
 * The {@code /ws} protocol of API.md. Authenticated by {@code ?token=} or a first {@code auth}
 * frame; a bad frame gets an {@code error} event and the connection stays open.
 */
@Component
class ChatWebSocketHandler extends TextWebSocketHandler {
  private static final Logger log = LoggerFactory.getLogger(ChatWebSocketHandler.class);
  private static final TypeReference<List<AgentSpec>> AGENTS = new TypeReference<>() {};

  private final AuthService auth;
  private final SubscriptionHub hub;
  private final QueryService queries;
  private final ConversationStore conversations;
  private final ObjectMapper json;
  private final WebSocketProperties properties;
  private final Map<String, ClientConnection> connections = new ConcurrentHashMap<>();

  ChatWebSocketHandler(
      AuthService auth,
      SubscriptionHub hub,
      QueryService queries,
      ConversationStore conversations,
      ObjectMapper json,
      WebSocketProperties properties,
      MeterRegistry meters) {
    this.auth = auth;
    this.hub = hub;
    this.queries = queries;
    this.conversations = conversations;
    this.json = json;
    this.properties = properties;
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
          closeQuietly(raw, new CloseStatus(4401, "invalid token"));
          return;
        }
      }
    }
    var connection = new ClientConnection(session, null);
    connections.put(raw.getId(), connection);
    if (authenticated != null) {
      connection.authenticate(authenticated.user(), authenticated.token().canWrite());
      ready(connection);
    }
  }

  @Override
  protected void handleTextMessage(WebSocketSession raw, TextMessage message) {
    ClientConnection connection = connections.get(raw.getId());
    if (connection == null) {
      return;
    }
    JsonNode frame;
    try {
      frame = json.readTree(message.getPayload());
    } catch (JsonProcessingException e) {
      error(connection, "bad_frame", "frame is not valid JSON", null);
      return;
    }
    if (frame == null || !frame.isObject() || !frame.path("type").isTextual()) {
      error(connection, "bad_frame", "frame must be a JSON object with a \"type\"", null);
      return;
    }
    String type = frame.get("type").asText();
    try {
      if (type.equals("ping")) {
        connection.send("{\"type\":\"pong\"}");
      } else if (type.equals("auth")) {
        authenticate(connection, frame);
      } else if (connection.user() == null) {
        error(connection, "unauthorized", "send an auth frame first", type);
      } else if (!connection.canWrite() && (type.equals("send_message") || type.equals("cancel"))) {
        error(connection, "insufficient_scope", "this token has only the read scope", type);
      } else {
        switch (type) {
          case "subscribe" -> subscribe(connection, frame);
          case "unsubscribe" -> unsubscribe(connection, frame);
          case "send_message" -> sendMessage(connection, frame);
          case "cancel" -> cancel(connection, frame);
          default -> error(connection, "unknown_type", "unknown frame type '" + type + "'", type);
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

  private void authenticate(ClientConnection connection, JsonNode frame) {
    if (connection.user() != null) {
      error(connection, "already_authenticated", "this connection is authenticated", "auth");
      return;
    }
    var authenticated = auth.resolve(frame.path("token").asText(null));
    if (authenticated.isEmpty()) {
      error(connection, "unauthorized", "invalid token", "auth");
      return;
    }
    connection.authenticate(authenticated.get().user(), authenticated.get().token().canWrite());
    ready(connection);
  }

  private void ready(ClientConnection connection) {
    hub.add(connection);
    send(connection, Map.of("type", "ready", "userId", connection.user().id()));
  }

  private void subscribe(ClientConnection connection, JsonNode frame) {
    UUID userId = connection.user().id();
    String after = frame.path("after").asText(null);
    if (after != null && !RelayedEvent.isValidId(after)) {
      throw new IllegalArgumentException("after must be an event id");
    }
    if (frame.hasNonNull("queryId")) {
      var query = queries.get(userId, uuid(frame, "queryId"));
      hub.subscribeQuery(connection, query.id(), query.conversationId(), after);
      send(connection, Map.of("type", "subscribed", "queryId", query.id()));
    } else if (frame.hasNonNull("conversationId")) {
      UUID conversationId = uuid(frame, "conversationId");
      conversations
          .find(userId, conversationId)
          .orElseThrow(() -> new NotFoundException("conversation"));
      hub.subscribeConversation(connection, conversationId);
      send(connection, Map.of("type", "subscribed", "conversationId", conversationId));
    } else {
      throw new IllegalArgumentException("subscribe needs a conversationId or a queryId");
    }
  }

  private void unsubscribe(ClientConnection connection, JsonNode frame) {
    if (frame.hasNonNull("queryId")) {
      connection.queries.remove(uuid(frame, "queryId"));
    } else if (frame.hasNonNull("conversationId")) {
      connection.conversations.remove(uuid(frame, "conversationId"));
    } else {
      throw new IllegalArgumentException("unsubscribe needs a conversationId or a queryId");
    }
  }

  private void sendMessage(ClientConnection connection, JsonNode frame) {
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
    ack.put("type", "message_accepted");
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
    ack.put("type", "cancel_accepted");
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
    event.put("type", "error");
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
    ClientConnection connection = connections.remove(raw.getId());
    if (connection != null) {
      hub.remove(connection);
    }
  }

  private static void closeQuietly(WebSocketSession session, CloseStatus status) {
    try {
      session.close(status);
    } catch (java.io.IOException ignored) {
      // The peer is gone already.
    }
  }
}
