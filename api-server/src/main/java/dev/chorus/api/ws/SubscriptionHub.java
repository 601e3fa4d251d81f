package dev.chorus.api.ws;

import dev.chorus.api.query.QueryStore;
import dev.chorus.api.stream.RelayedEvent;
import dev.chorus.api.stream.StreamRelay;
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
    // Under the connection's lock (the one deliver() takes): a live event that arrives while the
    // replay is read waits, then is skipped if the replay had it — instead of racing ahead and
    // making the replay's older events look already sent.
    synchronized (connection) {
      connection.conversations.add(conversationId);
      for (UUID queryId : queries.activeQueryIds(conversationId)) {
        relay.watch(queryId, conversationId);
        connection.catchUp(queryId, null, relay.range(queryId, conversationId, null));
      }
    }
  }

  /** Subscribes to one query, replaying what the client missed after {@code after}. */
  void subscribeQuery(
      ClientConnection connection, UUID queryId, UUID conversationId, String after) {
    synchronized (connection) {
      connection.queries.add(queryId);
      connection.catchUp(queryId, after, relay.range(queryId, conversationId, after));
    }
  }
}
