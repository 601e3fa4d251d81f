package dev.chorus.api.notify;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.chorus.api.stream.StreamProperties;
import dev.chorus.model.notify.UserEvent;
import dev.chorus.model.notify.UserNotice;
import dev.chorus.model.stream.RedisKeys;
import io.lettuce.core.RedisClient;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.autoconfigure.data.redis.RedisProperties;
import org.springframework.context.SmartLifecycle;
import org.springframework.data.redis.core.StringRedisTemplate;
import org.springframework.stereotype.Component;

/**
 * Notices for all live sessions of a user, on every api-server instance: conversation-list changes,
 * query status, typing. Published on the user's Redis pub/sub channel; each instance subscribes to
 * the channels of the users it has sessions for (one shared pub/sub connection, never one per
 * client), so a notice reaches exactly the instances that need it. Fire and forget by design: a
 * notice is a hint to refresh, PostgreSQL stays the record.
 */
@Component
public class UserEvents implements SmartLifecycle {
  private static final Logger log = LoggerFactory.getLogger(UserEvents.class);
  private static final Duration SUBSCRIBE_TIMEOUT = Duration.ofSeconds(5);

  /** Receives a user's notices; {@code wireJson} is the event as sent to a client. */
  @FunctionalInterface
  public interface Listener {
    void accept(UserNotice notice, String wireJson);
  }

  /** Ends a {@link #listen} registration. */
  public interface Registration extends AutoCloseable {
    @Override
    void close();
  }

  private final StringRedisTemplate redis;
  private final ObjectMapper json;
  private final RedisKeys keys;
  private final RedisClient client;
  private final String instanceId = UUID.randomUUID().toString();
  private final Map<UUID, Set<Listener>> listeners = new ConcurrentHashMap<>();
  private final Map<String, UUID> channels = new ConcurrentHashMap<>();

  /**
   * Delivery leaves Redis's I/O thread at once and keeps each user's notices in order: one thread,
   * as the stream relay does; writes to a client only queue in its bounded send buffer.
   */
  private final ExecutorService delivery =
      Executors.newSingleThreadExecutor(Thread.ofPlatform().name("user-events").daemon().factory());

  private volatile StatefulRedisPubSubConnection<String, String> subscriber;

  public UserEvents(
      StringRedisTemplate redis,
      ObjectMapper json,
      StreamProperties properties,
      RedisProperties redisProperties) {
    this.redis = redis;
    this.json = json;
    this.keys = new RedisKeys(properties.keyPrefix());
    this.client = RedisClient.create(redisProperties.getUrl());
  }

  /** Tells every live session of the user, on any instance, about a change. */
  public void publish(UUID userId, UserEvent event) {
    publish(userId, null, event);
  }

  /**
   * Like {@link #publish(UUID, UserEvent)}, naming the session ({@link #origin}) that caused it.
   * Never throws: the change it reports has happened whether or not the notice goes out.
   */
  public void publish(UUID userId, String origin, UserEvent event) {
    try {
      redis.convertAndSend(
          keys.userChannel(userId), json.writeValueAsString(new UserNotice(origin, event)));
    } catch (JsonProcessingException | RuntimeException e) {
      log.warn("could not publish {} for user {}: {}", type(event), userId, e.toString());
    }
  }

  /** A name for a session that is unique across api-server instances. */
  public String origin(String sessionId) {
    return instanceId + "/" + sessionId;
  }

  /**
   * Delivers the user's notices to {@code listener} until the registration is closed. Returns once
   * Redis has confirmed the subscription, so nothing published afterwards is missed.
   */
  public synchronized Registration listen(UUID userId, Listener listener) {
    Set<Listener> forUser = listeners.computeIfAbsent(userId, id -> ConcurrentHashMap.newKeySet());
    if (forUser.isEmpty()) {
      String channel = keys.userChannel(userId);
      channels.put(channel, userId);
      try {
        subscriber.sync().subscribe(channel);
      } catch (RuntimeException e) {
        // Not subscribed: leave no trace, so the next session of the user tries again.
        channels.remove(channel);
        listeners.remove(userId);
        throw e;
      }
    }
    forUser.add(listener);
    return () -> unlisten(userId, listener);
  }

  private synchronized void unlisten(UUID userId, Listener listener) {
    Set<Listener> forUser = listeners.get(userId);
    if (forUser == null || !forUser.remove(listener) || !forUser.isEmpty()) {
      return;
    }
    listeners.remove(userId);
    String channel = keys.userChannel(userId);
    channels.remove(channel);
    if (subscriber != null && subscriber.isOpen()) {
      subscriber.async().unsubscribe(channel);
    }
  }

  private void received(String channel, String message) {
    UUID userId = channels.get(channel);
    if (userId == null) {
      return;
    }
    UserNotice notice;
    String wire;
    try {
      notice = json.readValue(message, UserNotice.class);
      wire = json.writeValueAsString(notice.event());
    } catch (JsonProcessingException | RuntimeException e) {
      log.warn("ignoring an unreadable notice on {}: {}", channel, e.toString());
      return;
    }
    for (Listener listener : listeners.getOrDefault(userId, Set.of())) {
      try {
        listener.accept(notice, wire);
      } catch (RuntimeException e) {
        log.warn("notice listener failed for user {}: {}", userId, e.toString());
      }
    }
  }

  private static String type(UserEvent event) {
    return event.getClass().getSimpleName();
  }

  @Override
  public void start() {
    var connection = client.connectPubSub();
    // A session's auth waits for its subscription; with Redis away it fails fast instead.
    connection.setTimeout(SUBSCRIBE_TIMEOUT);
    connection.addListener(
        new RedisPubSubAdapter<>() {
          @Override
          public void message(String channel, String message) {
            delivery.execute(() -> received(channel, message));
          }
        });
    subscriber = connection;
  }

  @Override
  public void stop() {
    var connection = subscriber;
    subscriber = null;
    if (connection != null) {
      connection.close();
    }
    delivery.shutdown();
    client.shutdown();
  }

  @Override
  public boolean isRunning() {
    return subscriber != null;
  }
}
