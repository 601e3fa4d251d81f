package dev.chorus.worker.agent;

import dev.chorus.model.workflow.TaskQueues;
import dev.chorus.worker.provider.ChatProvider;
import dev.chorus.worker.provider.ProviderRegistry;
import io.temporal.worker.WorkerFactory;
import io.temporal.worker.WorkerOptions;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.InitializingBean;
import org.springframework.stereotype.Component;

/**
 * One Temporal worker per provider, on {@code chorus-provider-<id>}: the provider set is known only
 * from configuration (named endpoints), so these are created here rather than declared in YAML. The
 * starter starts the factory once the application is ready, after this bean has run. A provider's
 * global rate limit is its task queue's activities-per-second setting.
 */
@Component
class ProviderWorkers implements InitializingBean {
  private static final Logger log = LoggerFactory.getLogger(ProviderWorkers.class);

  /**
   * The most the SDK holds a heartbeat back. {@link HeartbeatKeeper} decides when to beat (every
   * {@code heartbeat-interval}, and soon after an announced cancel); the SDK's own throttle (0.8 of
   * the heartbeat timeout by default) would otherwise delay those beats and send them from its
   * four-thread pool instead of the keeper's virtual threads.
   */
  static final Duration SDK_HEARTBEAT_THROTTLE = Duration.ofMillis(200);

  private final WorkerFactory factory;
  private final ProviderRegistry providers;
  private final AgentStreamActivitiesImpl activities;
  private final ProviderQueueProperties limits;

  ProviderWorkers(
      WorkerFactory factory,
      ProviderRegistry providers,
      AgentStreamActivitiesImpl activities,
      ProviderQueueProperties limits) {
    this.factory = factory;
    this.providers = providers;
    this.activities = activities;
    this.limits = limits;
  }

  @Override
  public void afterPropertiesSet() {
    for (ChatProvider provider : providers.all()) {
      ProviderQueueProperties.Limits limit = limits.forProvider(provider.id());
      WorkerOptions.Builder options =
          WorkerOptions.newBuilder()
              .setMaxConcurrentActivityExecutionSize(limit.maxConcurrent())
              .setMaxHeartbeatThrottleInterval(SDK_HEARTBEAT_THROTTLE);
      if (limit.perSecond() != null) {
        options.setMaxTaskQueueActivitiesPerSecond(limit.perSecond());
      }
      String queue = TaskQueues.provider(provider.id());
      factory.newWorker(queue, options.build()).registerActivitiesImplementations(activities);
      log.info(
          "serving provider {} ({}) on task queue {}, {} concurrent",
          provider.id(),
          provider.kind().id(),
          queue,
          limit.maxConcurrent());
    }
  }
}
