package dev.chorus.api.stream;

import dev.chorus.api.query.QueryStore;
import dev.chorus.model.stream.RedisKeys;
import io.lettuce.core.Limit;
import io.lettuce.core.Range;
import io.lettuce.core.RedisClient;
import io.lettuce.core.StreamMessage;
import io.lettuce.core.XReadArgs;
import io.lettuce.core.XReadArgs.StreamOffset;
import io.lettuce.core.api.StatefulRedisConnection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.autoconfigure.data.redis.RedisProperties;
import org.springframework.boot.web.context.WebServerGracefulShutdownLifecycle;
import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;

/**
 * Reads the live feed ({@link RedisKeys#liveFeed}: the worker copies every query-stream entry there
 * in the same script that writes it) through one blocking XREAD of one key on one dedicated Redis
 * connection, and hands each event to the listeners. No thread or connection per client, and one
 * read brings the new events of every query under way, whatever their number. Should the relay fall
 * so far behind that the feed was trimmed past what it had read, it reads the query streams of the
 * unfinished queries and of those finished since again (subscribers drop what they have).
 */
@Component
public class StreamRelay implements SmartLifecycle {
  private static final Logger log = LoggerFactory.getLogger(StreamRelay.class);
  private static final String START = "0-0";
  private static final Duration SWEEP_EVERY = Duration.ofSeconds(30);

  /** An unfinished query and the id of its stream's entry relayed last ({@link #START}: none). */
  private record Watched(UUID queryId, UUID conversationId, String cursor) {}

  private final RedisKeys keys;
  private final StreamProperties properties;
  private final QueryStore queries;
  private final RedisClient client;
  private final Map<UUID, Watched> watched = new ConcurrentHashMap<>();
  private final List<Consumer<RelayedEvent>> listeners = new CopyOnWriteArrayList<>();
  private volatile boolean running;
  private volatile StatefulRedisConnection<String, String> reader;
  private volatile StatefulRedisConnection<String, String> commands;

  /** The live feed's entry read last. */
  private String cursor = START;

  private Thread thread;

  public StreamRelay(StreamProperties properties, RedisProperties redis, QueryStore queries) {
    this.properties = properties;
    this.queries = queries;
    this.keys = new RedisKeys(properties.keyPrefix());
    this.client = RedisClient.create(redis.getUrl());
  }

  public void addListener(Consumer<RelayedEvent> listener) {
    listeners.add(listener);
  }

  /** The events of a query after {@code afterId} (exclusive; null for all), oldest first. */
  public List<RelayedEvent> range(UUID queryId, UUID conversationId, String afterId) {
    Range.Boundary<String> lower =
        afterId == null ? Range.Boundary.unbounded() : Range.Boundary.excluding(afterId);
    List<StreamMessage<String, String>> messages =
        commands
            .sync()
            .xrange(keys.queryStream(queryId), Range.from(lower, Range.Boundary.unbounded()));
    List<RelayedEvent> events = new ArrayList<>(messages.size());
    for (var m : messages) {
      events.add(
          RelayedEvent.of(
              queryId, conversationId, m.getId(), m.getBody().get(RedisKeys.EVENT_FIELD)));
    }
    return events;
  }

  /** True while Redis holds the query's stream (false once it expired or Redis lost it). */
  public boolean exists(UUID queryId) {
    return commands.sync().exists(keys.queryStream(queryId)) > 0;
  }

  /** True when the newest entry of the query's stream is its last event. */
  public boolean endsWithLast(UUID queryId) {
    var newest =
        commands.sync().xrevrange(keys.queryStream(queryId), Range.create("-", "+"), Limit.from(1));
    return !newest.isEmpty()
        && RelayedEvent.of(
                queryId,
                null,
                newest.getFirst().getId(),
                newest.getFirst().getBody().get(RedisKeys.EVENT_FIELD))
            .last();
  }

  /**
   * Counts a query as unfinished, so that a re-read after the relay fell behind covers it (from its
   * beginning, unless some of it was relayed already). Its live events come through the feed.
   */
  public void watch(UUID queryId, UUID conversationId) {
    watched.putIfAbsent(queryId, new Watched(queryId, conversationId, START));
  }

  @Override
  public void start() {
    commands = client.connect();
    reader = client.connect();
    // Take the feed's cursor before reading PostgreSQL, so no query falls between the two; what a
    // query wrote before is read from its own stream when a client subscribes.
    var last = commands.sync().xrevrange(keys.liveFeed(), Range.create("-", "+"), Limit.from(1));
    cursor = last.isEmpty() ? START : last.getFirst().getId();
    for (var active : queries.allActiveQueries()) {
      watch(active.queryId(), active.conversationId());
    }
    running = true;
    thread = Thread.ofPlatform().name("stream-relay").daemon().start(this::loop);
  }

  private void loop() {
    long nextSweep = System.nanoTime() + SWEEP_EVERY.toNanos();
    while (running) {
      try {
        readOnce();
        if (System.nanoTime() - nextSweep > 0) {
          nextSweep = System.nanoTime() + SWEEP_EVERY.toNanos();
          sweep();
        }
      } catch (RuntimeException e) {
        if (!running) {
          return;
        }
        log.warn("stream relay read failed, retrying: {}", e.toString());
        sleepQuietly(Duration.ofMillis(500));
      }
    }
  }

  /**
   * Stops watching streams that are gone from Redis (expired or lost) of queries PostgreSQL says
   * are finished: their {@code query_completed} will never come, and subscribers get the final
   * state from PostgreSQL instead.
   */
  private void sweep() {
    Set<UUID> active = new HashSet<>();
    for (var query : queries.allActiveQueries()) {
      active.add(query.queryId());
    }
    watched.forEach((queryId, w) -> {
      if (!active.contains(queryId) && !exists(queryId)) {
        watched.remove(queryId);
      }
    });
  }

  /** How many unfinished queries the relay knows of. */
  public int watchedStreams() {
    return watched.size();
  }

  @SuppressWarnings("unchecked") // one offset through a varargs parameter
  private void readOnce() {
    String before = cursor;
    List<StreamMessage<String, String>> messages =
        reader
            .sync()
            .xread(
                XReadArgs.Builder.block(properties.block()).count(properties.batch()),
                StreamOffset.from(keys.liveFeed(), cursor));
    for (var message : messages) {
      var body = message.getBody();
      String conversation = body.get(RedisKeys.LIVE_CONVERSATION_FIELD);
      relay(
          RelayedEvent.of(
              UUID.fromString(body.get(RedisKeys.LIVE_QUERY_FIELD)),
              conversation == null || conversation.isEmpty() ? null : UUID.fromString(conversation),
              body.get(RedisKeys.LIVE_ID_FIELD),
              body.get(RedisKeys.EVENT_FIELD)));
      cursor = message.getId();
    }
    // Only a relay this far behind can have lost entries to the feed's cap: at least the cap's
    // worth follows the cursor, so its read came back full.
    if (messages.size() >= properties.batch() && trimmedAfter(before)) {
      log.warn("the relay fell behind the live feed's cap; reading the query streams again");
      reread(RelayedEvent.timeOf(before).minus(REREAD_MARGIN));
    }
  }

  /** Slack between a feed id's time and the database clock when re-reading query streams. */
  private static final Duration REREAD_MARGIN = Duration.ofSeconds(5);

  /**
   * Whether the feed no longer holds the entry {@code id} (read last): trimmed past it, so entries
   * that followed it may be gone unread. Errs towards yes, as a re-read only costs time.
   */
  boolean trimmedAfter(String id) {
    var first = commands.sync().xrange(keys.liveFeed(), Range.create("-", "+"), Limit.from(1));
    return !first.isEmpty() && RelayedEvent.compareIds(first.getFirst().getId(), id) > 0;
  }

  /**
   * Relays again what the query streams hold after what was relayed of each: the unfinished queries
   * and those finished since {@code since}. Subscribers drop what they have already.
   */
  void reread(java.time.Instant since) {
    for (var query : queries.activeOrFinishedSince(since)) {
      watch(query.queryId(), query.conversationId());
    }
    for (Watched w : List.copyOf(watched.values())) {
      for (RelayedEvent event :
          range(w.queryId(), w.conversationId(), START.equals(w.cursor()) ? null : w.cursor())) {
        relay(event);
      }
    }
  }

  private void relay(RelayedEvent event) {
    if (event.last()) {
      watched.remove(event.queryId());
    } else {
      watched.put(
          event.queryId(), new Watched(event.queryId(), event.conversationId(), event.id()));
    }
    for (var listener : listeners) {
      try {
        listener.accept(event);
      } catch (RuntimeException e) {
        log.warn("relay listener failed for query {}: {}", event.queryId(), e.toString());
      }
    }
  }

  private static void sleepQuietly(Duration duration) {
    try {
      Thread.sleep(duration);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void stop() {
    running = false;
    if (reader != null) {
      reader.close();
    }
    if (commands != null) {
      commands.close();
    }
    client.shutdown();
  }

  @Override
  public boolean isRunning() {
    return running;
  }

  /**
   * Before the web server (and after it when stopping): found by the fault suite, a restarted
   * api-server accepted WebSocket subscribes before the relay had connected, and their replays
   * failed, so reconnecting clients never got the rest of their queries.
   */
  @Override
  public int getPhase() {
    return PHASE;
  }

  /** Lower than the web server's start phase (the graceful-shutdown phase minus 1024). */
  static final int PHASE = WebServerGracefulShutdownLifecycle.SMART_LIFECYCLE_PHASE - 2048;
}
