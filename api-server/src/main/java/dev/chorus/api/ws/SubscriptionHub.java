package dev.chorus.api.ws;

import dev.chorus.api.query.QueryStore;
import dev.chorus.api.stream.RelayedEvent;
import dev.chorus.api.stream.StoredFinalEvents;
import dev.chorus.api.stream.StreamProperties;
import dev.chorus.api.stream.StreamRelay;
import dev.chorus.api.stream.Subscriber;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import org.springframework.stereotype.Component;

/**
 * Routes relayed query events to the subscribers (WebSocket connections and SSE responses) of their
 * query or conversation. Subscribers are indexed by both, so an event touches only the clients that
 * want it. When Redis no longer holds a finished query's stream, the subscriber gets the final
 * state from PostgreSQL instead.
 */
@Component
public class SubscriptionHub {
  private final Map<String, Subscriber> subscribers = new ConcurrentHashMap<>();
  private final Map<UUID, Set<Subscriber>> byQuery = new ConcurrentHashMap<>();
  private final Map<UUID, Set<Subscriber>> byConversation = new ConcurrentHashMap<>();
  private final StreamRelay relay;
  private final QueryStore queries;
  private final StoredFinalEvents stored;
  private final StreamProperties properties;

  SubscriptionHub(
      StreamRelay relay,
      QueryStore queries,
      StoredFinalEvents stored,
      StreamProperties properties) {
    this.relay = relay;
    this.queries = queries;
    this.stored = stored;
    this.properties = properties;
    relay.addListener(this::dispatch);
  }

  public void add(Subscriber subscriber) {
    subscriber.limits(properties.clientLimits());
    subscribers.put(subscriber.id(), subscriber);
  }

  public void remove(Subscriber subscriber) {
    subscriber.markClosed();
    subscribers.remove(subscriber.id());
    subscriber.queries.forEach(q -> unindex(byQuery, q, subscriber));
    subscriber.conversations.forEach(c -> unindex(byConversation, c, subscriber));
  }

  /** Subscribers of this process still being served (a client cut off no longer counts). */
  public int size() {
    int open = 0;
    for (Subscriber subscriber : subscribers.values()) {
      if (!subscriber.isClosed()) {
        open++;
      }
    }
    return open;
  }

  /** Characters queued for all subscribers and not yet written. */
  public long queuedChars() {
    long total = 0;
    for (Subscriber subscriber : subscribers.values()) {
      total += subscriber.queuedChars();
    }
    return total;
  }

  private void dispatch(RelayedEvent event) {
    Set<Subscriber> ofQuery = byQuery.get(event.queryId());
    Set<Subscriber> ofConversation = byConversation.get(event.conversationId());
    if (ofQuery != null) {
      for (Subscriber subscriber : ofQuery) {
        if (subscriber.wants(event)) {
          subscriber.deliver(event);
        }
      }
    }
    if (ofConversation != null) {
      for (Subscriber subscriber : ofConversation) {
        // Subscribed to both: the query's set delivered it already.
        if ((ofQuery == null || !ofQuery.contains(subscriber)) && subscriber.wants(event)) {
          subscriber.deliver(event);
        }
      }
    }
    if (event.last()) {
      // A finished query gets no more events: its query-only subscribers need no index entry.
      byQuery.remove(event.queryId());
    }
  }

  /**
   * Subscribes to a conversation: later queries arrive live, and unfinished ones are replayed from
   * their start so the client sees each running answer whole.
   */
  public void subscribeConversation(Subscriber subscriber, UUID conversationId) {
    subscribeConversation(subscriber, conversationId, null);
  }

  /**
   * As {@link #subscribeConversation(Subscriber, UUID)}, resuming after the event {@code after}
   * (any event of the conversation the client saw last): the unfinished queries and those that
   * finished since then replay what followed it. Event ids are times, so one cursor serves every
   * query of the conversation; a query that ended while the client was away ends on its screen too.
   */
  public void subscribeConversation(Subscriber subscriber, UUID conversationId, String after) {
    List<UUID> active = queries.activeQueryIds(List.of(conversationId));
    List<UUID> finished =
        after == null
            ? List.of()
            : queries.finishedQueryIdsSince(
                conversationId, RelayedEvent.timeOf(after).minus(RESUME_MARGIN));
    active.forEach(subscriber::holdLive);
    finished.forEach(subscriber::holdLive);
    subscriber.conversations.add(conversationId);
    index(byConversation, conversationId, subscriber);
    for (UUID queryId : finished) {
      replay(subscriber, queryId, conversationId, after);
    }
    for (UUID queryId : active) {
      relay.watch(queryId, conversationId);
      replay(subscriber, queryId, conversationId, after);
    }
  }

  /** Slack between a stream id's time and the database clock when resuming a conversation. */
  private static final java.time.Duration RESUME_MARGIN = java.time.Duration.ofSeconds(5);

  /** Subscribes to one query, replaying what the client missed after {@code after}. */
  public void subscribeQuery(
      Subscriber subscriber, UUID queryId, UUID conversationId, String after) {
    subscriber.holdLive(queryId);
    subscriber.queries.add(queryId);
    index(byQuery, queryId, subscriber);
    replay(subscriber, queryId, conversationId, after);
  }

  public void unsubscribeQuery(Subscriber subscriber, UUID queryId) {
    subscriber.queries.remove(queryId);
    unindex(byQuery, queryId, subscriber);
  }

  public void unsubscribeConversation(Subscriber subscriber, UUID conversationId) {
    subscriber.conversations.remove(conversationId);
    unindex(byConversation, conversationId, subscriber);
  }

  /**
   * Sends the replay, then the live events held meanwhile; never leaves live events held. Without a
   * stream in Redis, a finished query replays from PostgreSQL and a running one waits for the
   * worker's next event (it comes through the relay's live feed).
   */
  private void replay(Subscriber subscriber, UUID queryId, UUID conversationId, String after) {
    List<RelayedEvent> events = List.of();
    boolean hadLast = false;
    try {
      events = relay.range(queryId, conversationId, after);
      if (events.stream().noneMatch(RelayedEvent::last)) {
        if (!relay.exists(queryId)) {
          var query = queries.findQuery(subscriber.userId(), queryId);
          if (query.isPresent() && query.get().status().isFinal()) {
            events = stored.of(query.get());
          } else {
            relay.watch(queryId, conversationId);
          }
        } else if (events.isEmpty() && relay.endsWithLast(queryId)) {
          hadLast = true;
        }
      }
    } finally {
      subscriber.catchUp(queryId, after, events);
    }
    if (hadLast) {
      subscriber.alreadyFinished(queryId);
    }
  }

  private static void index(Map<UUID, Set<Subscriber>> index, UUID key, Subscriber subscriber) {
    index.computeIfAbsent(key, k -> ConcurrentHashMap.newKeySet()).add(subscriber);
  }

  private static void unindex(Map<UUID, Set<Subscriber>> index, UUID key, Subscriber subscriber) {
    index.computeIfPresent(
        key,
        (k, set) -> {
          set.remove(subscriber);
          return set.isEmpty() ? null : set;
        });
  }
}
