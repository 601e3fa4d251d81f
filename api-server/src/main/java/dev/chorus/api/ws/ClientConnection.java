package dev.chorus.api.ws;

import dev.chorus.api.auth.CurrentUser;
import dev.chorus.api.stream.RelayedEvent;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import org.springframework.web.socket.CloseStatus;
import org.springframework.web.socket.PingMessage;
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

  /** Live events of queries whose replay is being read, held until the replay is sent. */
  private final Map<UUID, List<RelayedEvent>> held = new HashMap<>();

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

  /** Sends an event unless the client has it already (or holds it while a replay is read). */
  synchronized void deliver(RelayedEvent event) {
    List<RelayedEvent> holding = held.get(event.queryId());
    if (holding != null) {
      holding.add(event);
      return;
    }
    sendOnce(event);
  }

  private void sendOnce(RelayedEvent event) {
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
   * Starts holding the query's live events: call before subscribing and reading the replay, so an
   * event that arrives meanwhile neither races ahead of the replay nor is lost. The relay thread
   * never waits for the replay's Redis read.
   */
  synchronized void holdLive(UUID queryId) {
    held.putIfAbsent(queryId, new ArrayList<>());
  }

  /**
   * Raises the query's cursor to {@code after}, sends what the stream holds beyond it, then the
   * live events held meanwhile; the cursor drops whatever the replay already sent.
   */
  synchronized void catchUp(UUID queryId, String after, Iterable<RelayedEvent> fromStream) {
    List<RelayedEvent> heldLive = held.remove(queryId);
    if (after != null) {
      String cursor = cursors.get(queryId);
      if (cursor == null || RelayedEvent.compareIds(after, cursor) > 0) {
        cursors.put(queryId, after);
      }
    }
    for (RelayedEvent event : fromStream) {
      sendOnce(event);
    }
    if (heldLive != null) {
      heldLive.forEach(this::sendOnce);
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

  /** A WebSocket ping; browsers answer it with a pong by themselves. */
  void ping() {
    try {
      session.sendMessage(new PingMessage());
    } catch (IOException | IllegalStateException e) {
      close(CloseStatus.SESSION_NOT_RELIABLE);
    }
  }
}
