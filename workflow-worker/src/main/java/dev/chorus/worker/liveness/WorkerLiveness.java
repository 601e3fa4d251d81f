package dev.chorus.worker.liveness;

import dev.chorus.model.stream.RedisKeys;
import dev.chorus.worker.stream.StreamProperties;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.beans.factory.InitializingBean;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.data.redis.core.RedisCallback;
import org.springframework.data.redis.core.StringRedisTemplate;
import org.springframework.data.redis.core.script.RedisScript;
import org.springframework.data.redis.core.types.RedisClientInfo;
import org.springframework.stereotype.Component;

/**
 * Notices a dead worker within a fraction of a second and fails its streaming attempts over to a
 * live worker, instead of waiting for Temporal's heartbeat timeout of each attempt. Every worker
 * beats into one Redis sorted set (scored by Redis's own clock, so host clocks do not matter),
 * names its Redis connections after itself, and lists the task tokens of the attempts it runs;
 * every worker also looks for peers that are dead — silent longer than {@code goneAfter} with no
 * connection left in {@code CLIENT LIST} (a crashed process's sockets close at once), or silent
 * longer than {@code deadAfter} whatever their connections (a hung one) — claims each atomically
 * (only one worker takes a dead peer over) and fails its attempts through Temporal with a retryable
 * failure, so the next attempt starts at once and continues from the checkpoint. A token names one
 * attempt: an attempt that ended meanwhile is not touched. A worker wrongly taken for dead (a stall
 * longer than {@code deadAfter}) only loses its attempts: their late events are fenced out of the
 * stream (see QueryEventPublisher). Without Redis this does nothing and the heartbeat timeout still
 * notices the dead.
 */
@Component
public class WorkerLiveness implements InitializingBean, DisposableBean {
  private static final Logger log = LoggerFactory.getLogger(WorkerLiveness.class);

  private static final RedisScript<Long> BEAT =
      RedisScript.of(
          """
          local t = redis.call('TIME')
          local now = t[1] * 1000 + math.floor(t[2] / 1000)
          redis.call('ZADD', KEYS[1], now, ARGV[1])
          redis.call('PEXPIRE', KEYS[1], 3600000)
          return now
          """,
          Long.class);

  /**
   * Removes and returns the workers silent for more than ARGV[1] ms, and those silent for more than
   * ARGV[2] ms that are not among the connected ones (ARGV[3..]): the caller owns them.
   */
  @SuppressWarnings("rawtypes")
  private static final RedisScript<List> CLAIM_DEAD =
      RedisScript.of(
          """
          local t = redis.call('TIME')
          local now = t[1] * 1000 + math.floor(t[2] / 1000)
          local connected = {}
          for i = 3, #ARGV do connected[ARGV[i]] = true end
          local dead = {}
          local quiet = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]),
            'WITHSCORES')
          for i = 1, #quiet, 2 do
            local id, beat = quiet[i], tonumber(quiet[i + 1])
            if beat <= now - tonumber(ARGV[1]) or not connected[id] then
              redis.call('ZREM', KEYS[1], id)
              dead[#dead + 1] = id
            end
          end
          return dead
          """,
          List.class);

  /** Fails the attempts of a dead worker so Temporal retries them now. */
  @FunctionalInterface
  public interface Takeover {
    /** Fails one attempt the dead worker had listed. */
    void fail(byte[] taskToken, String attempt, String deadWorker);

    /**
     * Fails the attempts Temporal says the dead worker had started but that it never listed (it
     * died between taking the task and listing it); returns how many.
     */
    default int failUnlisted(String deadWorker) {
      return 0;
    }
  }

  private final String id;
  private final StringRedisTemplate redis;
  private final RedisKeys keys;
  private final LivenessProperties properties;
  private final Takeover takeover;
  private final LongSupplier nanoClock;
  private ScheduledExecutorService scheduler;

  /** When beats started succeeding again (nanoClock); -1 while they fail. */
  private volatile long healthySince = -1;

  @Autowired
  WorkerLiveness(
      WorkerIdentity identity,
      StringRedisTemplate redis,
      StreamProperties stream,
      LivenessProperties properties,
      Takeover takeover) {
    this(
        identity.id(),
        redis,
        new RedisKeys(stream.keyPrefix()),
        properties,
        takeover,
        System::nanoTime);
  }

  /**
   * {@code redis} must name its connections {@link RedisKeys#workerClientName(String) after id}.
   */
  WorkerLiveness(
      String id,
      StringRedisTemplate redis,
      RedisKeys keys,
      LivenessProperties properties,
      Takeover takeover,
      LongSupplier nanoClock) {
    this.id = id;
    this.redis = redis;
    this.keys = keys;
    this.properties = properties;
    this.takeover = takeover;
    this.nanoClock = nanoClock;
  }

  public String workerId() {
    return id;
  }

  /** An attempt listed as this worker's until closed. */
  public interface Listing extends AutoCloseable {
    @Override
    void close();
  }

  /** Lists an attempt as this worker's until the returned handle is closed. Never throws. */
  public Listing track(byte[] taskToken, String attempt) {
    if (!properties.enabled()) {
      return () -> {};
    }
    String token = Base64.getEncoder().encodeToString(taskToken);
    String key = keys.workerAttempts(id);
    try {
      redis.opsForHash().put(key, token, attempt);
    } catch (RuntimeException e) {
      log.debug("could not list attempt {} for failover (Redis away?)", attempt, e);
    }
    return () -> {
      try {
        redis.opsForHash().delete(key, token);
      } catch (RuntimeException e) {
        log.debug("could not unlist attempt {}", attempt, e);
      }
    };
  }

  /** Says this worker is alive. */
  void beat() {
    try {
      redis.execute(BEAT, List.of(keys.workers()), id);
      if (healthySince < 0) {
        healthySince = nanoClock.getAsLong();
      }
    } catch (RuntimeException e) {
      healthySince = -1;
      log.debug("liveness beat failed (Redis away?)", e);
    }
  }

  /**
   * Claims the dead peers (see the class comment) and fails their attempts over. Only once this
   * worker's own beats have gone through for twice {@code deadAfter}: after Redis itself was away,
   * every peer looks silent (and unconnected) until it could connect and beat again.
   */
  int reapDead() {
    long settled = 2 * properties.deadAfter().toNanos();
    if (healthySince < 0 || nanoClock.getAsLong() - healthySince < settled) {
      return 0;
    }
    List<String> args = new ArrayList<>();
    args.add(Long.toString(properties.deadAfter().toMillis()));
    Set<String> connected = connectedWorkers();
    // Without a connection list, only silence longer than deadAfter counts.
    args.add(Long.toString((connected == null ? properties.deadAfter() : goneAfter()).toMillis()));
    if (connected != null) {
      args.addAll(connected);
    }
    List<?> dead = redis.execute(CLAIM_DEAD, List.of(keys.workers()), args.toArray());
    int failed = 0;
    for (Object worker : dead == null ? List.of() : dead) {
      String deadId =
          worker instanceof byte[] b ? new String(b, StandardCharsets.UTF_8) : worker.toString();
      if (deadId.equals(id)) {
        continue;
      }
      String key = keys.workerAttempts(deadId);
      Map<Object, Object> attempts = redis.opsForHash().entries(key);
      log.warn(
          "worker {} is dead (silent with no Redis connection left, or for over {}): failing its {}"
              + " attempt(s) over",
          deadId,
          properties.deadAfter(),
          attempts.size());
      for (var attempt : attempts.entrySet()) {
        try {
          takeover.fail(
              Base64.getDecoder().decode(attempt.getKey().toString()),
              attempt.getValue().toString(),
              deadId);
          failed++;
        } catch (RuntimeException e) {
          // Most often the attempt had ended or timed out already.
          log.info(
              "could not fail over {} of worker {}: {}", attempt.getValue(), deadId, e.toString());
        }
      }
      redis.delete(key);
      try {
        int unlisted = takeover.failUnlisted(deadId);
        if (unlisted > 0) {
          log.warn("failed over {} attempt(s) worker {} had not listed yet", unlisted, deadId);
        }
        failed += unlisted;
      } catch (RuntimeException e) {
        // Temporal away: those attempts wait for their heartbeat timeout instead.
        log.warn("could not look for unlisted attempts of worker {}: {}", deadId, e.toString());
      }
    }
    return failed;
  }

  private Duration goneAfter() {
    Duration gone = properties.goneAfter();
    return gone.compareTo(properties.deadAfter()) < 0 ? gone : properties.deadAfter();
  }

  /** The workers with a Redis connection open now, or null when Redis will not list clients. */
  private Set<String> connectedWorkers() {
    List<RedisClientInfo> clients;
    try {
      clients =
          redis.execute(
              (RedisCallback<List<RedisClientInfo>>) c -> c.serverCommands().getClientList());
    } catch (RuntimeException e) {
      log.debug(
          "CLIENT LIST failed; only silence longer than {} counts", properties.deadAfter(), e);
      return null;
    }
    String prefix = keys.workerClientNamePrefix();
    Set<String> connected = new HashSet<>();
    for (RedisClientInfo client : clients == null ? List.<RedisClientInfo>of() : clients) {
      String name = client.getName();
      if (name != null && name.startsWith(prefix)) {
        connected.add(name.substring(prefix.length()));
      }
    }
    return connected;
  }

  private void tick() {
    beat();
    try {
      reapDead();
    } catch (RuntimeException e) {
      log.debug("looking for dead workers failed (Redis away?)", e);
    }
  }

  @Override
  public void afterPropertiesSet() {
    if (!properties.enabled()) {
      return;
    }
    scheduler =
        Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().name("worker-liveness").daemon().factory());
    long every = properties.beat().toMillis();
    scheduler.scheduleWithFixedDelay(this::tick, 0, every, TimeUnit.MILLISECONDS);
    log.info(
        "worker {}: failover of dead peers after {} of silence ({} without a Redis connection)",
        id,
        properties.deadAfter(),
        goneAfter());
  }

  /**
   * Stops beating. A worker that still lists attempts as its JVM goes stays listed, so a peer fails
   * them over a second later rather than after their heartbeat timeout; one without leaves.
   */
  @Override
  public void destroy() {
    if (scheduler == null) {
      return;
    }
    scheduler.shutdownNow();
    try {
      // A beat under way must not list this worker again after it left.
      scheduler.awaitTermination(1, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    try {
      if (redis.opsForHash().size(keys.workerAttempts(id)) == 0) {
        redis.opsForZSet().remove(keys.workers(), id);
      }
    } catch (RuntimeException e) {
      log.debug("could not leave the worker set (Redis away?)", e);
    }
  }
}
