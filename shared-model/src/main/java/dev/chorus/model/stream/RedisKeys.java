package dev.chorus.model.stream;

import java.util.UUID;

/** The one Redis key scheme of Chorus. Every key starts with a configurable prefix. */
public record RedisKeys(String prefix) {
  public static final String EVENT_FIELD = "e";

  public RedisKeys {
    if (prefix == null || prefix.isBlank()) {
      prefix = "chorus";
    }
  }

  /** The live event log of one query. */
  public String queryStream(UUID queryId) {
    return prefix + ":q:" + queryId + ":events";
  }

  /**
   * Per agent of one query, the newest attempt that has published: a hash the worker checks before
   * adding an attempt's events, so a superseded attempt cannot write into the stream.
   */
  public String queryAttempts(UUID queryId) {
    return prefix + ":q:" + queryId + ":attempts";
  }

  /** Sorted set of live workers, scored by when each last said so (Redis server time, ms). */
  public String workers() {
    return prefix + ":workers";
  }

  /** The streaming attempts a worker runs: activity task token (Base64) → what it is. */
  public String workerAttempts(String workerId) {
    return prefix + ":worker:" + workerId + ":attempts";
  }

  /**
   * The client name of a worker's Redis connections ({@code CLIENT SETNAME}): a worker with none
   * left in {@code CLIENT LIST} has died.
   */
  public String workerClientName(String workerId) {
    return workerClientNamePrefix() + workerId;
  }

  public String workerClientNamePrefix() {
    return prefix + ":worker:";
  }

  /** Announces every new query to the relays of all api-server instances. */
  public String queryAnnouncements() {
    return prefix + ":queries";
  }

  /**
   * The counter of one fixed rate-limit window: {@code bucket} names the limit (requests, queries,
   * login), {@code subject} whom it counts (a user id, a hashed email, an address).
   */
  public String rateWindow(String bucket, String subject, long window) {
    return prefix + ":rl:" + bucket + ":" + subject + ":" + window;
  }

  /**
   * The pub/sub channel of one user's notices (conversation list, query status, typing). Pub/sub
   * ignores the Redis database number, so the prefix is what keeps deployments apart.
   */
  public String userChannel(UUID userId) {
    return prefix + ":u:" + userId + ":notices";
  }
}
