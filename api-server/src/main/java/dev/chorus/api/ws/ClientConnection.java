package dev.chorus.api.ws;

import dev.chorus.api.auth.CurrentUser;
import dev.chorus.api.stream.RelayedEvent;
import java.io.IOException;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import org.springframework.web.socket.CloseStatus;
import org.springframework.web.socket.TextMessage;
import org.springframework.web.socket.WebSocketSession;

/**
 * One WebSocket client. Keeps, per query, the id of the last event it was sent: an event at or
 * before it is dropped, so catch-up and live relay can overlap and the client still gets every
 * event once, in order.
 */
final class ClientConnection {
  private final WebSocketSession session;
  private volatile CurrentUser user;
  private final Map<UUID, String> cursors = new HashMap<>();
  final Set<UUID> conversations = ConcurrentHashMap.newKeySet();
  final Set<UUID> queries = ConcurrentHashMap.newKeySet();

  ClientConnection(WebSocketSession session, CurrentUser user) {
    this.session = session;
    this.user = user;
  }

  String id() {
    return session.getId();
  }

  CurrentUser user() {
    return user;
  }

  void authenticate(CurrentUser authenticated) {
    this.user = authenticated;
  }

  boolean wants(RelayedEvent event) {
    return queries.contains(event.queryId()) || conversations.contains(event.conversationId());
  }

  /** Sends an event unless the client has it already. */
  synchronized void deliver(RelayedEvent event) {
    String cursor = cursors.get(event.queryId());
    if (cursor != null && RelayedEvent.compareIds(event.id(), cursor) <= 0) {
      return;
    }
    send(event.json());
    if (event.last()) {
      cursors.remove(event.queryId());
    } else {
      cursors.put(event.queryId(), event.id());
    }
  }

  /**
   * Raises the query's cursor to {@code after} and sends what the stream holds beyond it. Holding
   * the lock meanwhile makes a concurrent live delivery wait, then skip what catch-up sent.
   */
  synchronized void catchUp(UUID queryId, String after, Iterable<RelayedEvent> fromStream) {
    if (after != null) {
      String cursor = cursors.get(queryId);
      if (cursor == null || RelayedEvent.compareIds(after, cursor) > 0) {
        cursors.put(queryId, after);
      }
    }
    for (RelayedEvent event : fromStream) {
      deliver(event);
    }
  }

  void send(String json) {
    try {
      session.sendMessage(new TextMessage(json));
    } catch (IOException | IllegalStateException e) {
      close(CloseStatus.SESSION_NOT_RELIABLE);
    }
  }

  void close(CloseStatus status) {
    try {
      session.close(status);
    } catch (IOException ignored) {
      // Already gone.
    }
  }
}
