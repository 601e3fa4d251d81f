package dev.chorus.worker.agent;

import java.time.Duration;
import java.util.Map;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * Limits of each provider's task queue: concurrent streams per worker process, and a global rate
 * (activities per second, across all workers) enforced by the Temporal server. {@code
 * heartbeatThrottle} caps how long the SDK may hold back a heartbeat: a cancel only reaches a
 * streaming activity in a heartbeat's answer, so this is how fast "stop" stops.
 */
@ConfigurationProperties("chorus.provider-queues")
public record ProviderQueueProperties(
    @DefaultValue("200") int maxConcurrent,
    @DefaultValue("1s") Duration heartbeatThrottle,
    Map<String, Limits> overrides) {

  public record Limits(int maxConcurrent, Double perSecond) {}

  public Limits forProvider(String id) {
    Limits override = overrides == null ? null : overrides.get(id);
    if (override == null) {
      return new Limits(maxConcurrent, null);
    }
    return new Limits(
        override.maxConcurrent() > 0 ? override.maxConcurrent() : maxConcurrent,
        override.perSecond());
  }
}
