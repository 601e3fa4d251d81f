package dev.chorus.api.ws;

import dev.chorus.api.notify.UserEvents;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;

/**
 * What the protocol layer tracks per connection besides its subscriptions: liveness for the
 * heartbeat, failed auth attempts, the conversation-list channel and the typing throttle.
 */
final class SessionState {
  final ClientConnection connection;
  final String origin;
  final long connectedAtNanos = System.nanoTime();
  volatile long lastSeenNanos = connectedAtNanos;
  volatile long lastHeartbeatNanos = connectedAtNanos;
  volatile boolean conversationList;
  volatile UserEvents.Registration notices;
  private int failedAuths;
  private final Map<UUID, Long> lastTyping = new HashMap<>();

  SessionState(ClientConnection connection, String origin) {
    this.connection = connection;
    this.origin = origin;
  }

  void seen() {
    lastSeenNanos = System.nanoTime();
  }

  synchronized int failedAuth() {
    return ++failedAuths;
  }

  int subscriptions() {
    return connection.conversations.size() + connection.queries.size() + (conversationList ? 1 : 0);
  }

  /** Whether a typing notice for the conversation may go out now; records it if so. */
  synchronized boolean mayRelayTyping(UUID conversationId, Duration interval) {
    long now = System.nanoTime();
    Long last = lastTyping.get(conversationId);
    if (last != null && now - last < interval.toNanos()) {
      return false;
    }
    if (lastTyping.size() >= 64) {
      // Bounded: forget conversations whose throttle has run out.
      lastTyping.values().removeIf(t -> now - t >= interval.toNanos());
    }
    lastTyping.put(conversationId, now);
    return true;
  }
}
