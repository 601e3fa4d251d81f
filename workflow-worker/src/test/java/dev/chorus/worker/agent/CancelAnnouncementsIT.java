package dev.chorus.worker.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.chorus.model.stream.RedisKeys;
import dev.chorus.worker.stream.StreamProperties;
import dev.chorus.worker.support.WorkerIntegrationTest;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Primary;
import org.springframework.data.redis.core.StringRedisTemplate;

/**
 * A cancel announced on the real Redis (as an api-server publishes it) reaches the worker's
 * heartbeat keeper; anything else on the channel is ignored.
 */
@WorkerIntegrationTest
class CancelAnnouncementsIT {
  static final List<UUID> POKED = new CopyOnWriteArrayList<>();

  /** The real keeper, recording what it is poked for. */
  @TestConfiguration
  static class RecordingKeeper {
    @Bean
    @Primary
    HeartbeatKeeper recordingKeeper(ProviderQueueProperties properties) {
      return new HeartbeatKeeper(properties) {
        @Override
        void poke(UUID queryId) {
          POKED.add(queryId);
          super.poke(queryId);
        }
      };
    }
  }

  @Autowired StringRedisTemplate redis;
  @Autowired StreamProperties properties;

  @Test
  void anAnnouncedCancelPokesTheKeeperForThatQuery() {
    String channel = new RedisKeys(properties.keyPrefix()).cancelChannel();
    UUID queryId = UUID.randomUUID();

    // The listener subscribes on its own thread once the context is up: announce until heard.
    await()
        .atMost(Duration.ofSeconds(20))
        .pollInterval(Duration.ofMillis(200))
        .until(() -> {
          redis.convertAndSend(channel, "not a query id");
          redis.convertAndSend(channel, queryId.toString());
          return POKED.contains(queryId);
        });
    assertThat(POKED).containsOnly(queryId);
  }
}
