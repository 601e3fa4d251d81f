package dev.chorus.worker.agent;

import dev.chorus.model.workflow.AgentStreamActivities;
import java.time.Duration;
import java.util.Map;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * Limits of each provider's task queue: concurrent streams per worker process, and a global rate
 * (activities per second, across all workers) enforced by the Temporal server. {@code
 * heartbeatInterval} is how often a streaming activity heartbeats. Each heartbeat is a write in
 * Temporal's store, so it is every few seconds: a cancel that an api-server announces ({@code
 * RedisKeys#cancelChannel}) gets its heartbeat at once, only cancels from inside the workflow
 * (deadline, quorum, the Temporal UI) wait for the next one.
 */
@ConfigurationProperties("chorus.provider-queues")
public record ProviderQueueProperties(
    @DefaultValue("200") int maxConcurrent,
    @DefaultValue("3s") Duration heartbeatInterval,
    Map<String, Limits> overrides) {

  public ProviderQueueProperties {
    // Three beats fit in the timeout, so one slow heartbeat on a loaded machine costs no attempt.
    if (heartbeatInterval.isNegative()
        || heartbeatInterval.isZero()
        || heartbeatInterval.multipliedBy(3).compareTo(AgentStreamActivities.HEARTBEAT_TIMEOUT)
            > 0) {
      throw new IllegalArgumentException(
          "chorus.provider-queues.heartbeat-interval must be positive and at most a third of the"
              + " streams' heartbeat timeout ("
              + AgentStreamActivities.HEARTBEAT_TIMEOUT
              + "), was "
              + heartbeatInterval);
    }
  }

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
