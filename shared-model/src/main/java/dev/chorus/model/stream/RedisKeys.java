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

  /**
   * The live feed: every event of every query, in the order written, each entry a copy of one
   * query-stream entry with the fields {@link #LIVE_QUERY_FIELD}, {@link #LIVE_CONVERSATION_FIELD},
   * {@link #LIVE_ID_FIELD} (the entry's id in its query stream, the id clients see) and {@link
   * #EVENT_FIELD}. The worker adds both entries in one script; each api-server's relay reads this
   * one key instead of one XREAD key per query under way. Capped (approximately) by length: the
   * query streams stay the record that replays and resumes read.
   */
  public String liveFeed() {
    return prefix + ":live";
  }

  public static final String LIVE_QUERY_FIELD = "q";
  public static final String LIVE_CONVERSATION_FIELD = "c";
  public static final String LIVE_ID_FIELD = "i";

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

  /**
   * The pub/sub channel on which api-servers announce cancels (message: the query id). A worker
   * streaming for that query heartbeats at once, so Temporal's cancel reaches the activity without
   * waiting for the next regular beat. Only a hint: a lost message makes the cancel slower, never
   * wrong.
   */
  public String cancelChannel() {
    return prefix + ":cancels";
  }
}
