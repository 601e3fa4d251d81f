package dev.chorus.worker.agent;

import dev.chorus.worker.provider.Cancellation;
import io.temporal.activity.ActivityExecutionContext;
import io.temporal.client.ActivityCompletionException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
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
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.stereotype.Component;

/**
 * Keeps a streaming activity's heartbeat going while no delta arrives (a slow first token, a long
 * pause), so only a dead worker — not a slow provider — misses the heartbeat timeout. When Temporal
 * answers a heartbeat with cancellation, the provider's connection is closed and the activity's
 * thread interrupted, so the call stops at once. It is a streaming activity's only heartbeat: one
 * scheduler thread times the beats of every activity, and the delta callback never waits for one.
 *
 * <p>A heartbeat is a write in Temporal's store (on the dev server about 2.5 ms of its CPU), so the
 * regular beat is every {@code chorus.provider-queues.heartbeat-interval} (3 s; with 64 long
 * streams, beating every second cost the dev server 30% of a core instead of 21%, and under more
 * load late beats timed attempts out). A cancel would then wait up to that long, so an api-server
 * that signals one announces it ({@link #poke}), and the query's activities beat again a few times
 * in the next second and a half, by when the workflow has turned the signal into Temporal's cancel.
 */
@Component
class HeartbeatKeeper implements DisposableBean {
  /**
   * When a poked activity beats, after the poke: the signal still has to pass through a workflow
   * task before a heartbeat's answer carries the cancel.
   */
  static final List<Duration> POKE_BEATS =
      List.of(
          Duration.ofMillis(100),
          Duration.ofMillis(300),
          Duration.ofMillis(700),
          Duration.ofMillis(1500));

  private final Duration interval;

  /** The activities streaming for each query, for {@link #poke}. */
  private final Map<UUID, Set<Keeper>> byQuery = new ConcurrentHashMap<>();

  @Autowired
  HeartbeatKeeper(ProviderQueueProperties properties) {
    this(properties.heartbeatInterval());
  }

  HeartbeatKeeper(Duration interval) {
    this.interval = interval;
  }

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

  /**
   * Heartbeats {@code progress} of an activity streaming for {@code queryId} every interval until
   * the returned handle is closed.
   */
  Handle keep(ActivityExecutionContext context, UUID queryId, Supplier<Object> progress) {
    Keeper keeper = new Keeper(context, queryId, progress);
    byQuery.computeIfAbsent(queryId, q -> ConcurrentHashMap.newKeySet()).add(keeper);
    return keeper;
  }

  /**
   * A cancel of the query was signalled: its activities heartbeat soon (see {@link #POKE_BEATS}),
   * so the cancel reaches them without waiting for their next regular beat.
   */
  void poke(UUID queryId) {
    Set<Keeper> keepers = byQuery.get(queryId);
    if (keepers == null) {
      return;
    }
    for (Keeper keeper : keepers) {
      for (Duration after : POKE_BEATS) {
        scheduler.schedule(keeper::beatNow, after.toMillis(), TimeUnit.MILLISECONDS);
      }
    }
  }

  private final class Keeper implements Handle {
    private final Thread worker = Thread.currentThread();
    private final List<Runnable> closers = new CopyOnWriteArrayList<>();
    private final AtomicBoolean beating = new AtomicBoolean();
    private final ReentrantLock step = new ReentrantLock();
    private final ActivityExecutionContext context;
    private final UUID queryId;
    private final Supplier<Object> progress;
    private final ScheduledFuture<?> task;
    private volatile boolean cancelled;
    private volatile boolean closed;
    private volatile ActivityCompletionException reason;

    Keeper(ActivityExecutionContext context, UUID queryId, Supplier<Object> progress) {
      this.context = context;
      this.queryId = queryId;
      this.progress = progress;
      task =
          scheduler.scheduleAtFixedRate(
              this::beatNow, interval.toMillis(), interval.toMillis(), TimeUnit.MILLISECONDS);
    }

    void beatNow() {
      // The one before may still wait for a slow Temporal server: skip this beat.
      if (closed || reason != null || !beating.compareAndSet(false, true)) {
        return;
      }
      senders.execute(this::beat);
    }

    private void beat() {
      try {
        if (reason == null && !closed) {
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
      closed = true;
      task.cancel(false);
      byQuery.computeIfPresent(
          queryId,
          (q, keepers) -> {
            keepers.remove(this);
            return keepers.isEmpty() ? null : keepers;
          });
    }
  }

  @Override
  public void destroy() {
    scheduler.shutdownNow();
    senders.shutdownNow();
  }
}
