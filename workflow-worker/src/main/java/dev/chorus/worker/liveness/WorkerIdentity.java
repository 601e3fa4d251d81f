package dev.chorus.worker.liveness;

import dev.chorus.model.stream.RedisKeys;
import dev.chorus.worker.stream.StreamProperties;
import java.util.UUID;
import org.springframework.boot.autoconfigure.data.redis.LettuceClientConfigurationBuilderCustomizer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * This worker process's id: the member of the liveness set, and the name of every Redis connection
 * it opens (Lettuce sends it again on each reconnect), so peers see from {@code CLIENT LIST} the
 * moment the process is gone.
 */
public record WorkerIdentity(String id) {

  @Configuration(proxyBeanMethods = false)
  static class Config {
    @Bean
    WorkerIdentity workerIdentity() {
      return new WorkerIdentity(UUID.randomUUID().toString());
    }

    @Bean
    LettuceClientConfigurationBuilderCustomizer workerNamedRedisConnections(
        WorkerIdentity identity, StreamProperties stream) {
      String name = new RedisKeys(stream.keyPrefix()).workerClientName(identity.id());
      return builder -> builder.clientName(name);
    }
  }
}
