package dev.chorus.worker.ranking;

import dev.chorus.worker.provider.Cancellation;
import io.temporal.activity.ActivityExecutionContext;
import io.temporal.client.ActivityCompletionException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.stereotype.Component;

/**
 * Bounds a judge call: while it runs, the ranking activity heartbeats every second (so a dead
 * worker is noticed by the heartbeat timeout, not after minutes), and the call is stopped — its
 * connection closed, its thread interrupted — at the judge's timeout or when Temporal cancels the
 * activity. One scheduler thread serves every call.
 */
@Component
class JudgeGuards implements DisposableBean {
  static final Duration HEARTBEAT_INTERVAL = Duration.ofSeconds(1);

  private final ScheduledExecutorService scheduler =
      Executors.newSingleThreadScheduledExecutor(
          Thread.ofPlatform().name("judge-guard").daemon().factory());

  /**
   * A guard for a call on the current thread.
   *
   * @param context the activity's, for heartbeats; {@code null} outside an activity
   */
  Guard open(ActivityExecutionContext context, Duration timeout) {
    return new Guard(context, timeout);
  }

  final class Guard implements Cancellation, AutoCloseable {
    private final Thread caller = Thread.currentThread();
    private final List<Runnable> closers = new CopyOnWriteArrayList<>();
    private final ScheduledFuture<?> deadline;
    private final ScheduledFuture<?> heartbeats;
    private boolean closed;
    private volatile boolean stopped;
    private volatile boolean timedOut;
    private volatile ActivityCompletionException cancelled;

    private Guard(ActivityExecutionContext context, Duration timeout) {
      deadline =
          scheduler.schedule(
              () -> {
                timedOut = true;
                stop();
              },
              timeout.toMillis(),
              TimeUnit.MILLISECONDS);
      heartbeats =
          context == null
              ? null
              : scheduler.scheduleAtFixedRate(
                  () -> {
                    try {
                      context.heartbeat(null);
                    } catch (ActivityCompletionException e) {
                      cancelled = e;
                      stop();
                      throw e;
                    }
                  },
                  HEARTBEAT_INTERVAL.toMillis(),
                  HEARTBEAT_INTERVAL.toMillis(),
                  TimeUnit.MILLISECONDS);
    }

    /** The call ran out of time (the built-in method takes over). */
    boolean timedOut() {
      return timedOut;
    }

    /** Why Temporal stopped the activity (cancelled, timed out, worker shutting down), or null. */
    ActivityCompletionException cancelled() {
      return cancelled;
    }

    private synchronized void stop() {
      if (closed || stopped) {
        return;
      }
      stopped = true;
      closers.forEach(Runnable::run);
      caller.interrupt();
    }

    @Override
    public void onCancel(Runnable closer) {
      closers.add(closer);
      if (stopped) {
        closer.run();
      }
    }

    @Override
    public boolean isCancelled() {
      return stopped;
    }

    /**
     * Ends the guard on the caller's thread. An interrupt the deadline left behind is cleared, so
     * the rest of the activity (PostgreSQL, Redis) runs undisturbed; one from a Temporal
     * cancellation stays.
     */
    @Override
    public void close() {
      synchronized (this) {
        closed = true;
      }
      deadline.cancel(false);
      if (heartbeats != null) {
        heartbeats.cancel(false);
      }
      if (stopped && cancelled == null && Thread.currentThread() == caller) {
        Thread.interrupted();
      }
    }
  }

  @Override
  public void destroy() {
    scheduler.shutdownNow();
  }
}
