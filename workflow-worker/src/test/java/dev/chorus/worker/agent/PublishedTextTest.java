package dev.chorus.worker.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.lettuce.core.RedisCommandTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.data.redis.connection.stream.RecordId;

class PublishedTextTest {
  static final class Superseded extends RuntimeException {
    Superseded() {
      super("a newer attempt took over");
    }
  }

  private final PublishedText text =
      new PublishedText("kept ", Duration.ofSeconds(5), Superseded::new);

  @AfterEach
  void clearInterrupt() {
    Thread.interrupted();
  }

  private static CompletableFuture<RecordId> written(long seq) {
    return CompletableFuture.completedFuture(RecordId.of(1000, seq));
  }

  @Test
  void aDeltaJoinsOnlyOnceItsWriteIsConfirmedAndInOrder() {
    var first = new CompletableFuture<RecordId>();
    var second = new CompletableFuture<RecordId>();

    text.add(first, "a");
    text.add(second, "b");
    assertThat(text).hasToString("kept ");

    second.complete(RecordId.of(1000, 2));
    text.add(written(3), "c");
    // "b" and "c" are confirmed, but "a" before them is not: nothing joins out of order.
    assertThat(text).hasToString("kept ");

    first.complete(RecordId.of(1000, 1));
    text.add(written(4), "d");
    assertThat(text).hasToString("kept abcd");
    assertThat(text.length()).isEqualTo("kept abcd".length());
  }

  @Test
  void settleWaitsForEveryWriteInFlight() {
    var late = new CompletableFuture<RecordId>();
    text.add(late, "a");
    CompletableFuture.delayedExecutor(50, TimeUnit.MILLISECONDS)
        .execute(() -> late.complete(RecordId.of(1000, 1)));

    text.settle();

    assertThat(text).hasToString("kept a");
    text.rethrowFailure();
  }

  @Test
  void afterAFailedWriteNoLaterDeltaJoinsAndTheFailureIsThrown() {
    var failing = new CompletableFuture<RecordId>();
    text.add(written(1), "a");
    text.add(failing, "b");
    text.add(written(3), "c");
    var dropped = new IllegalStateException("connection reset");
    failing.completeExceptionally(dropped);

    assertThatThrownBy(() -> text.add(written(4), "d")).isSameAs(dropped);
    text.settle();
    assertThatThrownBy(text::rethrowFailure).isSameAs(dropped);
    assertThat(text).hasToString("kept a");
  }

  @Test
  void aSupersededWriteFailsTheAttempt() {
    text.add(written(1), "a");

    assertThatThrownBy(() -> text.add(CompletableFuture.completedFuture(null), "b"))
        .isInstanceOf(Superseded.class);
    assertThat(text).hasToString("kept a");
  }

  @Test
  void settleKeepsTheInterruptAndStillWaits() {
    var late = new CompletableFuture<RecordId>();
    text.add(late, "a");
    CompletableFuture.delayedExecutor(50, TimeUnit.MILLISECONDS)
        .execute(() -> late.complete(RecordId.of(1000, 1)));
    Thread.currentThread().interrupt();

    text.settle();

    assertThat(text).hasToString("kept a");
    assertThat(Thread.currentThread().isInterrupted()).isTrue();
  }

  @Test
  void aWriteNeverAnsweredFailsAfterTheTimeout() {
    var quick = new PublishedText("", Duration.ofMillis(50), Superseded::new);
    quick.add(new CompletableFuture<>(), "a");

    quick.settle();

    assertThatThrownBy(quick::rethrowFailure).isInstanceOf(RedisCommandTimeoutException.class);
    assertThat(quick).hasToString("");
  }

  @Test
  void whenTooManyWritesAreInFlightTheNextWaitsForTheOldest() {
    List<CompletableFuture<RecordId>> writes = new ArrayList<>();
    for (int i = 0; i < PublishedText.MAX_IN_FLIGHT; i++) {
      var write = new CompletableFuture<RecordId>();
      writes.add(write);
      text.add(write, "x");
    }
    CompletableFuture.delayedExecutor(50, TimeUnit.MILLISECONDS)
        .execute(() -> writes.getFirst().complete(RecordId.of(1000, 0)));

    text.add(new CompletableFuture<>(), "y");

    assertThat(writes.getFirst()).isDone();
    assertThat(text).hasToString("kept x");
  }
}
