package dev.chorus.worker.liveness;

import static org.assertj.core.api.Assertions.assertThat;

import dev.chorus.model.stream.RedisKeys;
import dev.chorus.worker.stream.StreamProperties;
import dev.chorus.worker.support.WorkerIntegrationTest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.data.redis.core.StringRedisTemplate;

/**
 * {@link WorkerLiveness} against the real Redis of the local stack: workers that stop beating are
 * taken over once, with exactly the attempts they still ran. Keys of their own, apart from the
 * liveness bean of the test context.
 */
@WorkerIntegrationTest
class WorkerLivenessIT {
  private static final Duration DEAD_AFTER = Duration.ofMillis(300);
  private static final LivenessProperties PROPERTIES =
      new LivenessProperties(true, Duration.ofMillis(50), DEAD_AFTER);

  @Autowired StringRedisTemplate redis;
  @Autowired StreamProperties stream;

  private RedisKeys keys;
  private final AtomicLong clock = new AtomicLong();
  private final List<String> failedOver = new CopyOnWriteArrayList<>();

  @BeforeEach
  void keys() {
    keys = new RedisKeys(stream.keyPrefix() + "-liveness");
  }

  @AfterEach
  void deleteKeys() {
    Set<String> ours = redis.keys(keys.prefix() + ":*");
    if (ours != null && !ours.isEmpty()) {
      redis.delete(ours);
    }
  }

  private WorkerLiveness worker(String name) {
    return new WorkerLiveness(
        redis,
        keys,
        PROPERTIES,
        (token, attempt, dead) ->
            failedOver.add(name + " failed " + new String(token, StandardCharsets.UTF_8)),
        clock::get);
  }

  private void settle() {
    clock.addAndGet(2 * DEAD_AFTER.toNanos() + 1);
  }

  @Test
  void aSilentWorkerIsTakenOverOnceWithTheAttemptsItStillRan() throws Exception {
    WorkerLiveness dying = worker("dying");
    WorkerLiveness a = worker("a");
    WorkerLiveness b = worker("b");
    dying.beat();
    dying.track("token-1".getBytes(StandardCharsets.UTF_8), "alto attempt 1");
    dying.track("token-2".getBytes(StandardCharsets.UTF_8), "bass attempt 2");
    dying.track("token-3".getBytes(StandardCharsets.UTF_8), "tenor attempt 1").close();
    a.beat();
    b.beat();
    settle();
    assertThat(a.reapDead()).as("nobody is silent yet").isZero();

    Thread.sleep(DEAD_AFTER.toMillis() + 100);
    a.beat();
    b.beat();

    assertThat(a.reapDead() + b.reapDead()).isEqualTo(2);
    assertThat(failedOver.stream().map(f -> f.substring(f.indexOf(" failed ") + 8)))
        .containsExactlyInAnyOrder("token-1", "token-2");
    assertThat(failedOver.stream().map(f -> f.substring(0, f.indexOf(' '))).distinct())
        .as("one worker took the dead one over")
        .hasSize(1);
    assertThat(redis.hasKey(keys.workerAttempts(dying.workerId()))).isFalse();
    assertThat(redis.opsForZSet().range(keys.workers(), 0, -1))
        .containsExactlyInAnyOrder(a.workerId(), b.workerId());
    assertThat(a.reapDead() + b.reapDead()).as("taken over once").isZero();
  }

  @Test
  void aWorkerStoppingWithAttemptsStaysListedForTakeoverAndOneWithoutLeaves() {
    WorkerLiveness busy = worker("busy");
    WorkerLiveness idle = worker("idle");
    busy.afterPropertiesSet();
    idle.afterPropertiesSet();
    busy.track("token-5".getBytes(StandardCharsets.UTF_8), "alto attempt 1");
    idle.track("token-6".getBytes(StandardCharsets.UTF_8), "bass attempt 1").close();

    busy.destroy();
    idle.destroy();

    assertThat(redis.opsForZSet().range(keys.workers(), 0, -1)).containsExactly(busy.workerId());
    assertThat(redis.getExpire(keys.workers())).as("an abandoned set expires").isPositive();
  }

  @Test
  void afterRedisWasAwayNobodyIsTakenOverUntilPeersHadTimeToBeatAgain() throws Exception {
    WorkerLiveness peer = worker("peer");
    peer.beat();
    peer.track("token-9".getBytes(StandardCharsets.UTF_8), "alto attempt 1");
    Thread.sleep(DEAD_AFTER.toMillis() + 100);

    WorkerLiveness back = worker("back");
    back.beat();
    assertThat(back.reapDead()).as("its own beats just came back").isZero();
    assertThat(failedOver).isEmpty();

    settle();
    assertThat(back.reapDead()).isEqualTo(1);
    assertThat(failedOver).containsExactly("back failed token-9");
  }
}
