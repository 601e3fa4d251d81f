package dev.chorus.worker.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.chorus.model.workflow.AgentStreamActivities;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class ProviderQueuePropertiesTest {
  @Test
  void aHeartbeatIntervalLeavesRoomForThreeBeatsInTheTimeout() {
    Duration third = AgentStreamActivities.HEARTBEAT_TIMEOUT.dividedBy(3);
    assertThat(new ProviderQueueProperties(200, third, null).heartbeatInterval()).isEqualTo(third);

    for (Duration wrong :
        new Duration[] {third.plusMillis(1), Duration.ZERO, Duration.ofSeconds(-1)}) {
      assertThatThrownBy(() -> new ProviderQueueProperties(200, wrong, null))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("chorus.provider-queues.heartbeat-interval")
          .hasMessageContaining(wrong.toString());
    }
  }
}
