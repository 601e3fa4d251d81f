package dev.chorus.worker.notify;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.chorus.model.api.QueryStatus;
import dev.chorus.model.stream.RedisKeys;
import dev.chorus.worker.query.QueryLifecycleActivitiesImpl;
import dev.chorus.worker.stream.StreamProperties;
import dev.chorus.worker.support.QueryRows;
import dev.chorus.worker.support.WorkerIntegrationTest;
import io.lettuce.core.RedisClient;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.autoconfigure.data.redis.RedisProperties;
import org.springframework.data.redis.core.StringRedisTemplate;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * The worker tells the owner's sessions about query status changes it makes, on the user's Redis
 * channel that the api-servers relay (real PostgreSQL and Redis pub/sub).
 */
@WorkerIntegrationTest
class UserNoticesIT {
  @Autowired QueryLifecycleActivitiesImpl lifecycle;
  @Autowired JdbcClient jdbc;
  @Autowired StringRedisTemplate redis;
  @Autowired RedisProperties redisProperties;
  @Autowired StreamProperties properties;
  @Autowired ObjectMapper json;

  private final LinkedBlockingQueue<String> received = new LinkedBlockingQueue<>();
  private RedisClient client;
  private StatefulRedisPubSubConnection<String, String> subscriber;
  private QueryRows rows;
  private UUID conversationId;
  private UUID queryId;

  @BeforeEach
  void ownerQueryAndListener() {
    rows = QueryRows.insert(jdbc, "notices-it", "hello", "PENDING");
    queryId = rows.queryId();
    conversationId = rows.conversationId();

    client = RedisClient.create(redisProperties.getUrl());
    subscriber = client.connectPubSub();
    subscriber.addListener(
        new RedisPubSubAdapter<>() {
          @Override
          public void message(String channel, String message) {
            received.add(message);
          }
        });
    subscriber.sync().subscribe(new RedisKeys(properties.keyPrefix()).userChannel(rows.userId()));
  }

  @AfterEach
  void cleanUp() {
    subscriber.close();
    client.shutdown();
    rows.delete(jdbc);
    Set<String> ours = redis.keys(properties.keyPrefix() + ":*");
    if (ours != null && !ours.isEmpty()) {
      redis.delete(ours);
    }
  }

  private JsonNode next() throws Exception {
    String message = received.poll(10, TimeUnit.SECONDS);
    assertThat(message).as("a notice within 10 s").isNotNull();
    return json.readTree(message);
  }

  @Test
  void runningAndTheFinalStatusReachTheOwnersChannel() throws Exception {
    lifecycle.markRunning(queryId);
    JsonNode running = next();
    assertThat(running.has("origin")).isFalse();
    assertThat(running.at("/event/type").asText()).isEqualTo("query_status");
    assertThat(running.at("/event/queryId").asText()).isEqualTo(queryId.toString());
    assertThat(running.at("/event/conversationId").asText()).isEqualTo(conversationId.toString());
    assertThat(running.at("/event/status").asText()).isEqualTo("RUNNING");

    // A retried activity that changes nothing announces nothing.
    lifecycle.markRunning(queryId);
    lifecycle.finishQuery(queryId, conversationId, QueryStatus.PARTIAL);
    JsonNode finished = next();
    assertThat(finished.at("/event/status").asText()).isEqualTo("PARTIAL");
    assertThat(received.poll(300, TimeUnit.MILLISECONDS)).isNull();
  }
}
