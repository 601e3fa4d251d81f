package dev.chorus.api.ws;

import dev.chorus.api.query.QueryStore;
import dev.chorus.api.stream.RelayedEvent;
import dev.chorus.api.stream.StreamRelay;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import org.springframework.stereotype.Component;

/** Routes relayed query events to the connections subscribed to their query or conversation. */
@Component
class SubscriptionHub {
  private final Map<String, ClientConnection> connections = new ConcurrentHashMap<>();
  private final StreamRelay relay;
  private final QueryStore queries;

  SubscriptionHub(StreamRelay relay, QueryStore queries) {
    this.relay = relay;
    this.queries = queries;
    relay.addListener(this::dispatch);
  }

  void add(ClientConnection connection) {
    connections.put(connection.id(), connection);
  }

  void remove(ClientConnection connection) {
    connections.remove(connection.id());
  }

  private void dispatch(RelayedEvent event) {
    for (ClientConnection connection : connections.values()) {
      if (connection.wants(event)) {
        connection.deliver(event);
      }
    }
  }

  /**
   * Subscribes to a conversation: later queries arrive live, and unfinished ones are replayed from
   * their start so the client sees each running answer whole.
   */
  void subscribeConversation(ClientConnection connection, UUID conversationId) {
    List<UUID> active = queries.activeQueryIds(conversationId);
    active.forEach(connection::holdLive);
    connection.conversations.add(conversationId);
    for (UUID queryId : active) {
      relay.watch(queryId, conversationId);
      replay(connection, queryId, conversationId, null);
    }
  }

  /** Subscribes to one query, replaying what the client missed after {@code after}. */
  void subscribeQuery(
      ClientConnection connection, UUID queryId, UUID conversationId, String after) {
    connection.holdLive(queryId);
    connection.queries.add(queryId);
    replay(connection, queryId, conversationId, after);
  }

  /** Sends the replay, then the live events held meanwhile; never leaves live events held. */
  private void replay(
      ClientConnection connection, UUID queryId, UUID conversationId, String after) {
    List<RelayedEvent> fromStream = List.of();
    try {
      fromStream = relay.range(queryId, conversationId, after);
    } finally {
      connection.catchUp(queryId, after, fromStream);
    }
  }
}
