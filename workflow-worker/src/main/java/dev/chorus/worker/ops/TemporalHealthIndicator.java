package dev.chorus.worker.ops;

import dev.chorus.model.workflow.TemporalProbe;
import io.temporal.client.WorkflowClient;
import java.time.Duration;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.actuate.health.Health;
import org.springframework.boot.actuate.health.HealthIndicator;
import org.springframework.stereotype.Component;

/** {@code temporal} in /actuator/health and the readiness group: the namespace is served. */
@Component("temporal")
class TemporalHealthIndicator implements HealthIndicator {
  private final WorkflowClient client;
  private final Duration timeout;

  TemporalHealthIndicator(
      WorkflowClient client, @Value("${chorus.health.temporal-timeout:3s}") Duration timeout) {
    this.client = client;
    this.timeout = timeout;
  }

  @Override
  public Health health() {
    var result = TemporalProbe.check(client, timeout);
    return (result.up() ? Health.up() : Health.down())
        .withDetail("namespace", result.namespace())
        .withDetail("state", result.detail())
        .build();
  }
}
