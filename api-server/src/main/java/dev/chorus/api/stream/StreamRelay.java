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
 * Reads every live query stream through one multiplexed blocking XREAD on one dedicated Redis
 * connection, and hands each event to the listeners. No thread or connection per client. New
 * queries are learned from the announcement stream the worker writes; after a restart, unfinished
 * queries are taken from PostgreSQL.
 */
@Component
public class StreamRelay implements SmartLifecycle {
  private static final Logger log = LoggerFactory.getLogger(StreamRelay.class);
  private static final String START = "0-0";
  private static final Duration SWEEP_EVERY = Duration.ofSeconds(30);

  private record Watched(UUID queryId, UUID conversationId, String cursor) {}

  private final RedisKeys keys;
  private final StreamProperties properties;
  private final QueryStore queries;
  private final RedisClient client;
  private final Map<String, Watched> watched = new ConcurrentHashMap<>();
  private final List<Consumer<RelayedEvent>> listeners = new CopyOnWriteArrayList<>();
  private volatile boolean running;
  private volatile StatefulRedisConnection<String, String> reader;
  private volatile StatefulRedisConnection<String, String> commands;
  private String announceCursor = START;
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

  /** Starts reading a query's stream from its beginning, unless it is read already. */
  public void watch(UUID queryId, UUID conversationId) {
    watched.putIfAbsent(keys.queryStream(queryId), new Watched(queryId, conversationId, START));
  }

  @Override
  public void start() {
    commands = client.connect();
    reader = client.connect();
    // Take the announcement cursor before reading PostgreSQL, so no query falls between the two.
    var last =
        commands.sync().xrevrange(keys.queryAnnouncements(), Range.create("-", "+"), Limit.from(1));
    announceCursor = last.isEmpty() ? START : last.getFirst().getId();
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
    watched.forEach((key, w) -> {
      if (!active.contains(w.queryId()) && commands.sync().exists(key) == 0) {
        watched.remove(key);
      }
    });
  }

  /** How many query streams the relay reads now. */
  public int watchedStreams() {
    return watched.size();
  }

  private void readOnce() {
    List<StreamOffset<String>> offsets = new ArrayList<>(watched.size() + 1);
    offsets.add(StreamOffset.from(keys.queryAnnouncements(), announceCursor));
    watched.forEach((key, w) -> offsets.add(StreamOffset.from(key, w.cursor())));
    @SuppressWarnings({"unchecked", "rawtypes"})
    StreamOffset<String>[] array = offsets.toArray(new StreamOffset[0]);
    List<StreamMessage<String, String>> messages =
        reader
            .sync()
            .xread(XReadArgs.Builder.block(properties.block()).count(properties.batch()), array);
    for (var message : messages) {
      if (message.getStream().equals(keys.queryAnnouncements())) {
        announceCursor = message.getId();
        var body = message.getBody();
        watch(UUID.fromString(body.get("queryId")), UUID.fromString(body.get("conversationId")));
        continue;
      }
      Watched w = watched.get(message.getStream());
      if (w == null) {
        continue;
      }
      var event =
          RelayedEvent.of(
              w.queryId(),
              w.conversationId(),
              message.getId(),
              message.getBody().get(RedisKeys.EVENT_FIELD));
      if (event.last()) {
        watched.remove(message.getStream());
      } else {
        watched.put(
            message.getStream(), new Watched(w.queryId(), w.conversationId(), message.getId()));
      }
      for (var listener : listeners) {
        try {
          listener.accept(event);
        } catch (RuntimeException e) {
          log.warn("relay listener failed for query {}: {}", w.queryId(), e.toString());
        }
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
