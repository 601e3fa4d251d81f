package dev.chorus.worker.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.temporal.activity.ActivityExecutionContext;
import io.temporal.client.ActivityCanceledException;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The keeper's beats with a recording activity context. The regular interval is an hour here, so
 * every beat a test sees came from a poke.
 */
class HeartbeatKeeperTest {
  private final HeartbeatKeeper keeper = new HeartbeatKeeper(Duration.ofHours(1));

  @AfterEach
  void tearDown() {
    keeper.destroy();
  }

  /** An activity context that records heartbeats, and answers them with a cancel once asked. */
  private static final class Context {
    final List<Object> beats = new CopyOnWriteArrayList<>();
    final AtomicBoolean cancelRequested = new AtomicBoolean();
    final ActivityExecutionContext proxy =
        (ActivityExecutionContext)
            Proxy.newProxyInstance(
                ActivityExecutionContext.class.getClassLoader(),
                new Class<?>[] {ActivityExecutionContext.class},
                (self, method, args) -> {
                  if (!method.getName().equals("heartbeat")) {
                    throw new UnsupportedOperationException(method.getName());
                  }
                  beats.add(args[0]);
                  if (cancelRequested.get()) {
                    throw new ActivityCanceledException();
                  }
                  return null;
                });
  }

  @Test
  void aPokedQueryBeatsAFewTimesSoonAndOtherQueriesDoNot() {
    UUID poked = UUID.randomUUID();
    var pokedContext = new Context();
    var otherContext = new Context();
    try (var a = keeper.keep(pokedContext.proxy, poked, () -> 42);
        var b = keeper.keep(otherContext.proxy, UUID.randomUUID(), () -> 7)) {
      keeper.poke(poked);

      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> pokedContext.beats.size() == HeartbeatKeeper.POKE_BEATS.size());
      assertThat(pokedContext.beats).containsOnly(42);
      assertThat(otherContext.beats).isEmpty();
      assertThat(a.stopReason()).isNull();
      assertThat(b.stopReason()).isNull();
    }
  }

  @Test
  void aPokeThatFindsTheCancelStopsTheActivity() throws Exception {
    UUID queryId = UUID.randomUUID();
    var context = new Context();
    var interrupted = new CountDownLatch(1);
    var closedProvider = new CountDownLatch(1);
    var handle = new HeartbeatKeeper.Handle[1];
    Thread activity =
        Thread.ofPlatform()
            .start(() -> {
              handle[0] = keeper.keep(context.proxy, queryId, () -> 0);
              handle[0].onCancel(closedProvider::countDown);
              try {
                Thread.sleep(Duration.ofMinutes(1));
              } catch (InterruptedException e) {
                interrupted.countDown();
              }
            });
    await().atMost(Duration.ofSeconds(10)).until(() -> handle[0] != null);
    // The workflow has not turned the signal into a cancel yet: the first beats find none.
    keeper.poke(queryId);
    await().atMost(Duration.ofSeconds(10)).until(() -> !context.beats.isEmpty());
    context.cancelRequested.set(true);
    keeper.poke(queryId);

    assertThat(closedProvider.await(10, TimeUnit.SECONDS)).isTrue();
    assertThat(interrupted.await(10, TimeUnit.SECONDS)).isTrue();
    assertThat(handle[0].stopReason()).isInstanceOf(ActivityCanceledException.class);
    assertThat(handle[0].isCancelled()).isTrue();
    activity.join(Duration.ofSeconds(10));
    handle[0].close();
  }

  @Test
  void aClosedActivityIsNoLongerPoked() {
    UUID queryId = UUID.randomUUID();
    var context = new Context();
    keeper.keep(context.proxy, queryId, () -> 1).close();

    keeper.poke(queryId);
    var later = new Context();
    try (var next = keeper.keep(later.proxy, UUID.randomUUID(), () -> 2)) {
      keeper.poke(UUID.randomUUID());
      // Give a wrongly scheduled beat the time to happen: the pokes' last beat is at 1.5 s.
      await()
          .pollDelay(HeartbeatKeeper.POKE_BEATS.getLast().plusMillis(500))
          .atMost(Duration.ofSeconds(10))
          .until(() -> true);
      assertThat(context.beats).isEmpty();
      assertThat(later.beats).isEmpty();
      assertThat(next.stopReason()).isNull();
    }
  }
}
