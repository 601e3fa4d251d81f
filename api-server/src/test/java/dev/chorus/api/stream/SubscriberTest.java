package dev.chorus.api.stream;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The per-client ordering, de-duplication and bounded buffering of {@link Subscriber}. */
class SubscriberTest {
  private static final UUID QUERY = UUID.randomUUID();
  private static final UUID CONVERSATION = UUID.randomUUID();

  /** Records what it writes; can be made to block like a client that does not read. */
  private static final class Recording extends Subscriber {
    final List<String> written = new CopyOnWriteArrayList<>();
    final CountDownLatch unblock = new CountDownLatch(1);
    final CountDownLatch closedSlow = new CountDownLatch(1);
    final CountDownLatch ended = new CountDownLatch(1);
    volatile boolean blocked;

    Recording(OutboundLimits limits) {
      super(limits);
      queries.add(QUERY);
    }

    @Override
    public String id() {
      return "test";
    }

    @Override
    public UUID userId() {
      return null;
    }

    @Override
    protected void write(Outbound item) throws IOException {
      if (blocked) {
        try {
          unblock.await();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      if (item.end()) {
        ended.countDown();
      } else {
        written.add(item.event() == null ? item.text() : item.event().id());
      }
    }

    @Override
    protected void closeSlow() {
      closedSlow.countDown();
    }

    @Override
    protected void abort() {}

    @Override
    protected void afterLast(UUID queryId) {
      end();
    }
  }

  private static RelayedEvent event(String id, String type) {
    return RelayedEvent.of(QUERY, CONVERSATION, id, "{\"type\":\"" + type + "\",\"x\":1}");
  }

  private static void awaitWritten(Recording s, int count) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (s.written.size() < count && System.nanoTime() < deadline) {
      TimeUnit.MILLISECONDS.sleep(5);
    }
  }

  @Test
  void replayAndHeldLiveEventsArriveOnceInOrderAndTheEndEndsTheResponse() throws Exception {
    var s = new Recording(OutboundLimits.DEFAULT);
    s.holdLive(QUERY);
    // Live events arrive while the replay is read: held, not sent ahead of it.
    s.deliver(event("5-0", "delta"));
    s.deliver(event("6-0", "delta"));
    assertThat(s.written).isEmpty();
    s.catchUp(
        QUERY, "2-0", List.of(event("1-0", "delta"), event("3-0", "delta"), event("5-0", "delta")));
    s.deliver(event("6-0", "delta"));
    s.deliver(event("7-0", "query_completed"));
    s.deliver(event("8-0", "delta"));
    awaitWritten(s, 4);
    assertThat(s.ended.await(5, TimeUnit.SECONDS)).isTrue();
    assertThat(s.written).containsExactly("3-0", "5-0", "6-0", "7-0");
    assertThat(s.hasFinished(QUERY)).isTrue();
    assertThat(event("7-0", "query_completed").type()).isEqualTo("query_completed");
  }

  @Test
  void resumingFromTheLastEventFinishesWithoutSendingIt() throws Exception {
    var s = new Recording(OutboundLimits.DEFAULT);
    s.holdLive(QUERY);
    s.catchUp(QUERY, "7-0", List.of(event("7-0", "query_completed")));
    assertThat(s.ended.await(5, TimeUnit.SECONDS)).isTrue();
    assertThat(s.written).isEmpty();
  }

  @Test
  void aClientThatStopsReadingIsCutOffAtItsLimitAndItsQueueDropped() throws Exception {
    var s = new Recording(new OutboundLimits(5, 1_000_000));
    s.blocked = true;
    for (int i = 1; i <= 20; i++) {
      s.deliver(event(i + "-0", "delta"));
      assertThat(s.queuedChars()).isLessThanOrEqualTo(5L * 60);
    }
    assertThat(s.closedSlow.await(5, TimeUnit.SECONDS)).isTrue();
    assertThat(s.isClosed()).isTrue();
    assertThat(s.queuedChars()).isZero();
    s.unblock.countDown();
    TimeUnit.MILLISECONDS.sleep(100);
    // The write in progress finishes; nothing queued after the cut-off is written.
    assertThat(s.written.size()).isLessThanOrEqualTo(1);
  }

  @Test
  void theCharacterLimitCountsToo() throws Exception {
    var s = new Recording(new OutboundLimits(1_000, 100));
    s.blocked = true;
    s.send("x".repeat(60));
    s.send("y".repeat(60));
    assertThat(s.closedSlow.await(5, TimeUnit.SECONDS)).isTrue();
    s.unblock.countDown();
  }
}
