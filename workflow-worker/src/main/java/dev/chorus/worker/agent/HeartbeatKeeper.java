package dev.chorus.worker.agent;

import dev.chorus.worker.provider.Cancellation;
import io.temporal.activity.ActivityExecutionContext;
import io.temporal.client.ActivityCompletionException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.stereotype.Component;

/**
 * Keeps a streaming activity's heartbeat going while no delta arrives (a slow first token, a long
 * pause), so only a dead worker — not a slow provider — misses the heartbeat timeout. When Temporal
 * answers a heartbeat with cancellation, the provider's connection is closed and the activity's
 * thread interrupted, so the call stops at once. It is a streaming activity's only heartbeat: one
 * scheduler thread times the beats of every activity, and the delta callback never waits for one.
 */
@Component
class HeartbeatKeeper implements DisposableBean {
  static final Duration INTERVAL = Duration.ofSeconds(1);

  private final ScheduledExecutorService scheduler =
      Executors.newSingleThreadScheduledExecutor(
          Thread.ofPlatform().name("heartbeat-keeper").daemon().factory());

  /**
   * The SDK sends a heartbeat on the calling thread and holds the activity's heartbeat lock while
   * the RPC runs; with hundreds of streams one thread would fall behind, so each beat is sent on a
   * virtual thread of its own.
   */
  private final ExecutorService senders =
      Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name("heartbeat-", 0).factory());

  /** Stops the heartbeats when closed; tells the provider when the activity is cancelled. */
  interface Handle extends Cancellation, AutoCloseable {
    /**
     * Why heartbeating stopped: {@code ActivityCanceledException} when the workflow cancelled the
     * activity, another {@code ActivityCompletionException} when the attempt is gone (timed out,
     * worker shutting down); {@code null} while it runs.
     */
    ActivityCompletionException stopReason();

    /**
     * Runs {@code step} so that a cancel arriving meanwhile interrupts the thread only after it: a
     * write to Redis is never cut off halfway, where it could not tell whether it happened.
     */
    void atomically(Runnable step);

    @Override
    void close();
  }

  /** Heartbeats {@code progress} every second until the returned handle is closed. */
  Handle keep(ActivityExecutionContext context, Supplier<Object> progress) {
    return new Keeper(context, progress);
  }

  private final class Keeper implements Handle {
    private final Thread worker = Thread.currentThread();
    private final List<Runnable> closers = new CopyOnWriteArrayList<>();
    private final AtomicBoolean beating = new AtomicBoolean();
    private final ReentrantLock step = new ReentrantLock();
    private final ScheduledFuture<?> task;
    private volatile boolean cancelled;
    private volatile ActivityCompletionException reason;

    Keeper(ActivityExecutionContext context, Supplier<Object> progress) {
      task =
          scheduler.scheduleAtFixedRate(
              () -> {
                // The one before may still wait for a slow Temporal server: skip this beat.
                if (!beating.compareAndSet(false, true)) {
                  return;
                }
                senders.execute(() -> beat(context, progress));
              },
              INTERVAL.toMillis(),
              INTERVAL.toMillis(),
              TimeUnit.MILLISECONDS);
    }

    private void beat(ActivityExecutionContext context, Supplier<Object> progress) {
      try {
        if (reason == null) {
          context.heartbeat(progress.get());
        }
      } catch (ActivityCompletionException cancelledOrGone) {
        reason = cancelledOrGone;
        task.cancel(false);
        cancel();
      } finally {
        beating.set(false);
      }
    }

    void cancel() {
      cancelled = true;
      closers.forEach(Runnable::run);
      step.lock();
      try {
        worker.interrupt();
      } finally {
        step.unlock();
      }
    }

    @Override
    public void atomically(Runnable body) {
      step.lock();
      try {
        body.run();
      } finally {
        step.unlock();
      }
    }

    @Override
    public void onCancel(Runnable closer) {
      closers.add(closer);
      if (cancelled) {
        closer.run();
      }
    }

    @Override
    public boolean isCancelled() {
      return cancelled;
    }

    @Override
    public ActivityCompletionException stopReason() {
      return reason;
    }

    @Override
    public void close() {
      task.cancel(false);
    }
  }

  @Override
  public void destroy() {
    scheduler.shutdownNow();
    senders.shutdownNow();
  }
}
