package dev.chorus.worker.liveness;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.chorus.model.stream.RedisKeys;
import dev.chorus.worker.stream.StreamProperties;
import dev.chorus.worker.support.WorkerIntegrationTest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.data.redis.connection.RedisStandaloneConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceClientConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.core.RedisCallback;
import org.springframework.data.redis.core.StringRedisTemplate;

/**
 * {@link WorkerLiveness} against the real Redis of the local stack: workers that stop beating are
 * taken over once, with exactly the attempts they still ran. Keys of their own, apart from the
 * liveness bean of the test context.
 */
@WorkerIntegrationTest
class WorkerLivenessIT {
  // Generous: a loaded machine must not make a worker that just beat look silent.
  private static final Duration DEAD_AFTER = Duration.ofSeconds(1);
  private static final Duration GONE_AFTER = Duration.ofMillis(200);
  private static final LivenessProperties PROPERTIES =
      new LivenessProperties(true, Duration.ofMillis(50), DEAD_AFTER, DEAD_AFTER);

  @Autowired StringRedisTemplate redis;
  @Autowired StreamProperties stream;
  @Autowired LettuceConnectionFactory connections;
  @Autowired WorkerIdentity identity;

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

  private final List<LettuceConnectionFactory> ownConnections = new ArrayList<>();

  @AfterEach
  void closeConnections() {
    ownConnections.forEach(LettuceConnectionFactory::destroy);
  }

  private WorkerLiveness worker(String name) {
    return worker(name, redis, PROPERTIES);
  }

  private WorkerLiveness worker(
      String name, StringRedisTemplate connection, LivenessProperties properties) {
    return new WorkerLiveness(
        name + "-" + UUID.randomUUID(),
        connection,
        keys,
        properties,
        new WorkerLiveness.Takeover() {
          @Override
          public void fail(byte[] token, String attempt, String dead) {
            failedOver.add(name + " failed " + new String(token, StandardCharsets.UTF_8));
          }

          @Override
          public int failUnlisted(String dead) {
            askedForUnlisted.add(dead);
            return 0;
          }
        },
        clock::get);
  }

  /** The dead workers whose unlisted attempts a peer looked for in Temporal. */
  private final List<String> askedForUnlisted = new CopyOnWriteArrayList<>();

  /** Redis connections of their own, named like a worker process's. */
  private LettuceConnectionFactory namedConnections(String clientName) {
    RedisStandaloneConfiguration server = connections.getStandaloneConfiguration();
    var factory =
        new LettuceConnectionFactory(
            server, LettuceClientConfiguration.builder().clientName(clientName).build());
    factory.afterPropertiesSet();
    factory.start();
    ownConnections.add(factory);
    return factory;
  }

  @Test
  void theWorkersOwnRedisConnectionsCarryItsName() {
    String name = redis.execute((RedisCallback<String>) c -> c.serverCommands().getClientName());
    assertThat(name).isEqualTo(new RedisKeys(stream.keyPrefix()).workerClientName(identity.id()));
  }

  @Test
  void aCrashedWorkerWhoseConnectionsClosedIsTakenOverLongBeforeAStalledOne() throws Exception {
    var properties =
        new LivenessProperties(true, Duration.ofMillis(50), Duration.ofSeconds(3), GONE_AFTER);
    var crashedId = "crashed-" + UUID.randomUUID();
    var crashedConnections = namedConnections(keys.workerClientName(crashedId));
    var crashed =
        new WorkerLiveness(
            crashedId,
            new StringRedisTemplate(crashedConnections),
            keys,
            properties,
            (token, attempt, dead) -> failedOver.add(new String(token, StandardCharsets.UTF_8)),
            clock::get);
    var stalledId = "stalled-" + UUID.randomUUID();
    var stalled =
        new WorkerLiveness(
            stalledId,
            new StringRedisTemplate(namedConnections(keys.workerClientName(stalledId))),
            keys,
            properties,
            (token, attempt, dead) -> failedOver.add(new String(token, StandardCharsets.UTF_8)),
            clock::get);
    WorkerLiveness peer = worker("peer", redis, properties);
    crashed.beat();
    crashed.track("token-crashed".getBytes(StandardCharsets.UTF_8), "alto attempt 1");
    stalled.beat();
    stalled.track("token-stalled".getBytes(StandardCharsets.UTF_8), "bass attempt 1");
    peer.beat();
    settle(properties);

    // kill -9: the kernel closes the process's sockets and Redis drops its clients at once.
    crashedConnections.destroy();
    AtomicInteger reaped = new AtomicInteger();
    // Well before the stalled worker's deadAfter (3 s) would make it dead too.
    await()
        .atMost(Duration.ofSeconds(2))
        .pollInterval(Duration.ofMillis(50))
        .until(() -> {
          peer.beat();
          return reaped.addAndGet(peer.reapDead()) > 0;
        });

    assertThat(reaped).hasValue(1);
    assertThat(failedOver).containsExactly("peer failed token-crashed");
    assertThat(redis.opsForZSet().range(keys.workers(), 0, -1))
        .as("silent but still connected: not dead before deadAfter")
        .containsExactlyInAnyOrder(stalledId, peer.workerId());
  }

  private void settle() {
    settle(PROPERTIES);
  }

  private void settle(LivenessProperties properties) {
    clock.addAndGet(2 * properties.deadAfter().toNanos() + 1);
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

    AtomicInteger reaped = new AtomicInteger();
    await()
        .atMost(DEAD_AFTER.multipliedBy(5))
        .pollInterval(Duration.ofMillis(50))
        .until(() -> {
          a.beat();
          b.beat();
          return reaped.addAndGet(a.reapDead() + b.reapDead()) > 0;
        });

    assertThat(reaped).hasValue(2);
    assertThat(failedOver.stream().map(f -> f.substring(f.indexOf(" failed ") + 8)))
        .containsExactlyInAnyOrder("token-1", "token-2");
    assertThat(failedOver.stream().map(f -> f.substring(0, f.indexOf(' '))).distinct())
        .as("one worker took the dead one over")
        .hasSize(1);
    assertThat(redis.hasKey(keys.workerAttempts(dying.workerId()))).isFalse();
    assertThat(redis.opsForZSet().range(keys.workers(), 0, -1))
        .containsExactlyInAnyOrder(a.workerId(), b.workerId());
    assertThat(a.reapDead() + b.reapDead()).as("taken over once").isZero();
    assertThat(askedForUnlisted)
        .as("the attempts it took but never listed were looked for in Temporal, once")
        .containsExactly(dying.workerId());
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
