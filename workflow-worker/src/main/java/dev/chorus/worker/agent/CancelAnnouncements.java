package dev.chorus.worker.agent;

import dev.chorus.model.stream.RedisKeys;
import dev.chorus.worker.stream.StreamProperties;
import java.nio.charset.StandardCharsets;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.data.redis.connection.RedisConnectionFactory;
import org.springframework.data.redis.listener.ChannelTopic;
import org.springframework.data.redis.listener.RedisMessageListenerContainer;

/**
 * Listens to the cancels api-servers announce ({@link RedisKeys#cancelChannel()}) and pokes the
 * {@link HeartbeatKeeper}, so the query's streaming activities ask Temporal at once whether they
 * were cancelled. Spring's listener container subscribes again after Redis comes back; an
 * announcement missed meanwhile only makes that cancel wait for the next regular heartbeat.
 */
@Configuration(proxyBeanMethods = false)
class CancelAnnouncements {
  private static final Logger log = LoggerFactory.getLogger(CancelAnnouncements.class);

  @Bean
  RedisMessageListenerContainer cancelListener(
      RedisConnectionFactory redis, StreamProperties properties, HeartbeatKeeper heartbeats) {
    var container = new RedisMessageListenerContainer();
    container.setConnectionFactory(redis);
    container.addMessageListener(
        (message, pattern) -> {
          String body = new String(message.getBody(), StandardCharsets.UTF_8);
          try {
            heartbeats.poke(UUID.fromString(body));
          } catch (IllegalArgumentException e) {
            log.warn("ignoring a cancel announcement that is not a query id: {}", body);
          }
        },
        new ChannelTopic(new RedisKeys(properties.keyPrefix()).cancelChannel()));
    return container;
  }
}
