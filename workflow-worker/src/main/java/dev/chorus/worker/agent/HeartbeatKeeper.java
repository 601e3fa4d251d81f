package dev.chorus.worker.agent;

import io.temporal.activity.ActivityExecutionContext;
import io.temporal.client.ActivityCompletionException;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.stereotype.Component;

/**
 * Keeps a streaming activity's heartbeat going while no delta arrives (a slow first token, a long
 * pause), so only a dead worker — not a slow provider — misses the heartbeat timeout. When Temporal
 * answers a heartbeat with cancellation, the activity's thread is interrupted so the provider call
 * stops at once. One scheduler thread serves every activity.
 */
@Component
class HeartbeatKeeper implements DisposableBean {
  static final Duration INTERVAL = Duration.ofSeconds(1);

  private final ScheduledExecutorService scheduler =
      Executors.newSingleThreadScheduledExecutor(
          Thread.ofPlatform().name("heartbeat-keeper").daemon().factory());

  /** Stops the heartbeats when closed. */
  interface Handle {
    void close();
  }

  /** Heartbeats {@code progress} every second until the returned handle is closed. */
  Handle keep(ActivityExecutionContext context, Supplier<Object> progress) {
    Thread worker = Thread.currentThread();
    ScheduledFuture<?> task =
        scheduler.scheduleAtFixedRate(
            () -> {
              try {
                context.heartbeat(progress.get());
              } catch (ActivityCompletionException cancelledOrGone) {
                worker.interrupt();
                throw cancelledOrGone;
              }
            },
            INTERVAL.toMillis(),
            INTERVAL.toMillis(),
            TimeUnit.MILLISECONDS);
    return () -> task.cancel(false);
  }

  @Override
  public void destroy() {
    scheduler.shutdownNow();
  }
}
