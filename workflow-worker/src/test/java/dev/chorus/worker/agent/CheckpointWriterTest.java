package dev.chorus.worker.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.chorus.model.agent.AgentSpec;
import dev.chorus.model.workflow.AgentTask;
import dev.chorus.worker.query.QueryStore;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The ordering of {@link CheckpointWriter}: the database side (the attempt guard) is covered by
 * {@code QueryStoreIT}; here a store that records its writes and can be held mid-write shows that a
 * late batch never lands after an attempt's final checkpoint.
 */
class CheckpointWriterTest {
  private static final AgentTask TASK =
      new AgentTask(
          UUID.randomUUID(),
          UUID.randomUUID(),
          UUID.randomUUID(),
          new AgentSpec("mock", "alpha", "mock/alpha", null, null, null),
          UUID.randomUUID());

  private final RecordingStore store = new RecordingStore();
  private final CheckpointWriter writer = new CheckpointWriter(store);

  @AfterEach
  void stop() {
    store.release.countDown();
    writer.destroy();
  }

  @Test
  void offersAreWrittenInTheBackgroundAndTheNewestWins() throws InterruptedException {
    store.release.countDown();
    CheckpointWriter.Stream stream = writer.open(TASK, 1);
    stream.offer("Once");
    stream.offer("Once upon");
    await().atMost(Duration.ofSeconds(5)).until(() -> store.last().equals("Once upon"));
    assertThat(store.writes).doesNotContain("Once upon once");
  }

  @Test
  void flushWaitsForTheWriteInFlightSoTheFinalCheckpointIsTheLastWrite() throws Exception {
    CheckpointWriter.Stream stream = writer.open(TASK, 1);
    stream.offer("Once");
    assertThat(store.started.await(5, TimeUnit.SECONDS)).isTrue();
    stream.offer("Once upon"); // pending behind the held write: dropped by the flush

    Thread flusher = Thread.ofVirtual().start(() -> stream.flush("Once upon a time"));
    flusher.join(Duration.ofMillis(300));
    assertThat(flusher.isAlive()).as("flush waits for the write in flight").isTrue();
    assertThat(store.writes).isEmpty();

    store.release.countDown();
    flusher.join(Duration.ofSeconds(5));
    assertThat(store.writes).containsExactly("Once", "Once upon a time");

    stream.offer("late");
    writtenInOrderAfter();
    assertThat(store.writes).containsExactly("Once", "Once upon a time", MARKER);
  }

  @Test
  void aClosedStreamWritesNothingMore() throws InterruptedException {
    store.release.countDown();
    CheckpointWriter.Stream stream = writer.open(TASK, 1);
    stream.close();
    stream.offer("after the end");
    writtenInOrderAfter();
    assertThat(store.writes).containsExactly(MARKER);
  }

  private static final String MARKER = "another attempt's checkpoint";

  /**
   * Offers a checkpoint of another attempt and waits until it is written: the one writer thread
   * takes offers in order, so anything offered before it would have been written by then.
   */
  private void writtenInOrderAfter() {
    writer.open(TASK, 2).offer(MARKER);
    await().atMost(Duration.ofSeconds(5)).until(() -> store.writes.contains(MARKER));
  }

  /** Records checkpoint texts; the first batch waits for {@code release}. */
  private static final class RecordingStore extends QueryStore {
    final List<String> writes = new CopyOnWriteArrayList<>();
    final CountDownLatch started = new CountDownLatch(1);
    final CountDownLatch release = new CountDownLatch(1);

    RecordingStore() {
      super(null, null);
    }

    String last() {
      return writes.isEmpty() ? "" : writes.getLast();
    }

    @Override
    public void checkpointAll(List<Checkpoint> checkpoints) {
      started.countDown();
      try {
        release.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
      checkpoints.forEach(c -> writes.add(c.text()));
    }
  }
}
