package dev.chorus.worker.liveness;

import dev.chorus.model.stream.RedisKeys;
import dev.chorus.worker.stream.StreamProperties;
import io.temporal.client.WorkflowClientOptions;
import io.temporal.spring.boot.TemporalOptionsCustomizer;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.UUID;
import org.springframework.boot.autoconfigure.data.redis.LettuceClientConfigurationBuilderCustomizer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * This worker process's id: the member of the liveness set, and the name of every Redis connection
 * it opens (Lettuce sends it again on each reconnect), so peers see from {@code CLIENT LIST} the
 * moment the process is gone. It also begins the worker's Temporal identity ({@link #temporal}), so
 * a peer can find in Temporal the attempts the process had started (a pending activity's "last
 * worker identity") even when it died before listing them.
 */
public record WorkerIdentity(String id) {

  /** The identity this worker polls Temporal with: {@code <id>@<host>}. */
  public static String temporal(String id) {
    return id + "@" + HOST;
  }

  /** True when {@code temporalIdentity} is that of the worker {@code id}. */
  public static boolean isTemporalIdentityOf(String temporalIdentity, String id) {
    return temporalIdentity.startsWith(id + "@");
  }

  private static final String HOST = hostName();

  private static String hostName() {
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (UnknownHostException e) {
      return "unknown-host";
    }
  }

  @Configuration(proxyBeanMethods = false)
  static class Config {
    @Bean
    WorkerIdentity workerIdentity() {
      return new WorkerIdentity(UUID.randomUUID().toString());
    }

    /** Every Temporal worker of this process polls under {@link #temporal} of the process's id. */
    @Bean
    TemporalOptionsCustomizer<WorkflowClientOptions.Builder> workerTemporalIdentity(
        WorkerIdentity identity) {
      return builder -> builder.setIdentity(temporal(identity.id()));
    }

    @Bean
    LettuceClientConfigurationBuilderCustomizer workerNamedRedisConnections(
        WorkerIdentity identity, StreamProperties stream) {
      String name = new RedisKeys(stream.keyPrefix()).workerClientName(identity.id());
      return builder -> builder.clientName(name);
    }
  }
}
