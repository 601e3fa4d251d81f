package dev.chorus.api.stream;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.data.redis.RedisProperties;
import org.springframework.boot.web.context.WebServerGracefulShutdownLifecycle;

/** The relay is connected before the web server accepts a WebSocket that replays from it. */
class StreamRelayLifecycleTest {
  /** Spring Boot starts the web server one phase step below its graceful-shutdown phase. */
  private static final int WEB_SERVER_START_PHASE =
      WebServerGracefulShutdownLifecycle.SMART_LIFECYCLE_PHASE - 1024;

  @Test
  void theRelayStartsBeforeTheWebServerAndStopsAfterIt() {
    RedisProperties redis = new RedisProperties();
    redis.setUrl("redis://127.0.0.1:1");
    var relay =
        new StreamRelay(
            new StreamProperties(
                "chorus",
                Duration.ofSeconds(1),
                10,
                100,
                100_000,
                Duration.ofSeconds(15),
                Duration.ofMinutes(30)),
            redis,
            null);

    // Lifecycle beans start in ascending phase order and stop in descending order.
    assertThat(relay.getPhase()).isLessThan(WEB_SERVER_START_PHASE);
    relay.stop();
  }
}
