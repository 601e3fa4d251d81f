package dev.chorus.worker.agent;

import io.lettuce.core.RedisCommandTimeoutException;
import io.lettuce.core.RedisException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import org.springframework.data.redis.connection.stream.RecordId;

/**
 * The text of an answer as far as Redis has confirmed its deltas. A streaming attempt sends each
 * delta without waiting for Redis' answer (they reach Redis in order over one connection), so the
 * thread reading the provider is not woken once more per delta; a delta joins the text only when
 * its write was confirmed. The text therefore never holds a delta no client could receive: it is
 * what a next attempt may continue from, and what a cancelled or completed answer keeps.
 *
 * <p>Used by the one thread that streams the attempt. A failed or superseded write is kept and
 * thrown from the next {@link #add} or from {@link #rethrowFailure}; the deltas after it never join
 * the text.
 */
final class PublishedText {
  /** Deltas in flight at most; the next one waits for the oldest (Redis is slow or away). */
  static final int MAX_IN_FLIGHT = 256;

  private record InFlight(CompletableFuture<RecordId> write, String delta) {}

  private final ArrayDeque<InFlight> inFlight = new ArrayDeque<>();
  private final StringBuilder text;
  private final Duration timeout;
  private final Supplier<RuntimeException> superseded;
  private RuntimeException failure;

  /**
   * @param kept the text an earlier attempt streamed that this one continues
   * @param timeout how long a write may stay unanswered
   * @param superseded the failure when Redis answers that a newer attempt took over
   */
  PublishedText(String kept, Duration timeout, Supplier<RuntimeException> superseded) {
    this.text = new StringBuilder(kept);
    this.timeout = timeout;
    this.superseded = superseded;
  }

  /**
   * Tracks the write of the next delta, then adds to the text every delta whose write was
   * confirmed. Throws the failure of an earlier write, and waits for the oldest write when {@link
   * #MAX_IN_FLIGHT} are unanswered.
   */
  void add(CompletableFuture<RecordId> write, String delta) {
    rethrowFailure();
    inFlight.add(new InFlight(write, delta));
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!inFlight.isEmpty()
        && (inFlight.peek().write().isDone() || inFlight.size() > MAX_IN_FLIGHT)) {
      confirmOldest(deadline);
    }
    rethrowFailure();
  }

  /**
   * Waits for every write still in flight (at most the timeout, also when the thread is
   * interrupted: the interrupt is kept for the caller), so the text holds every delta Redis took.
   * Never throws: a failure is kept for {@link #rethrowFailure}.
   */
  void settle() {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!inFlight.isEmpty()) {
      confirmOldest(deadline);
    }
  }

  /** Throws the first write that failed or was superseded, if any. */
  void rethrowFailure() {
    if (failure != null) {
      throw failure;
    }
  }

  int length() {
    return text.length();
  }

  @Override
  public String toString() {
    return text.toString();
  }

  private void confirmOldest(long deadline) {
    InFlight oldest = inFlight.poll();
    if (failure != null) {
      return; // after a failed write, no later delta joins the text
    }
    try {
      if (await(oldest.write(), deadline) == null) {
        failure = superseded.get();
      } else {
        text.append(oldest.delta());
      }
    } catch (TimeoutException e) {
      failure = new RedisCommandTimeoutException("Redis did not confirm a delta within " + timeout);
    } catch (ExecutionException e) {
      failure = e.getCause() instanceof RuntimeException r ? r : new RedisException(e.getCause());
    }
  }

  /** Waits without giving up on an interrupt, which stays set for the caller. */
  private static RecordId await(CompletableFuture<RecordId> write, long deadline)
      throws TimeoutException, ExecutionException {
    boolean interrupted = Thread.interrupted();
    try {
      while (true) {
        try {
          return write.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
          interrupted = true;
        }
      }
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
