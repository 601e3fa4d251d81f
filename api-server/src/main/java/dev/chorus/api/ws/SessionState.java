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
  private Map<UUID, Long> lastTyping;
  // The client's text message while it arrives in parts; null between messages, so an idle
  // connection holds no buffer. Only the session's reader touches it: Tomcat delivers one part at a
  // time.
  private StringBuilder partial;

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

  /**
   * Adds one part of a client's text message. Returns the whole message after its last part, null
   * while parts are missing.
   *
   * @throws MessageTooBig once the message passes {@code maxChars}; the parts so far are dropped
   */
  String receive(String part, boolean last, int maxChars) throws MessageTooBig {
    StringBuilder sofar = partial;
    int length = (sofar == null ? 0 : sofar.length()) + part.length();
    if (length > maxChars) {
      partial = null;
      throw new MessageTooBig(maxChars);
    }
    if (sofar == null) {
      if (last) {
        return part;
      }
      // Room for a few parts at once; a long message grows it up to maxChars.
      sofar = new StringBuilder(Math.min(maxChars, 4 * part.length()));
      partial = sofar;
    }
    sofar.append(part);
    if (!last) {
      return null;
    }
    partial = null;
    return sofar.toString();
  }

  /** A client's message is longer than the protocol allows: the connection closes with 1009. */
  static final class MessageTooBig extends Exception {
    private static final long serialVersionUID = 1L;

    MessageTooBig(int maxChars) {
      super("a message may have at most " + maxChars + " characters", null, false, false);
    }
  }

  /** Whether a typing notice for the conversation may go out now; records it if so. */
  synchronized boolean mayRelayTyping(UUID conversationId, Duration interval) {
    long now = System.nanoTime();
    if (lastTyping == null) {
      lastTyping = new HashMap<>();
    }
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
