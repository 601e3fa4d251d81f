package dev.chorus.api.stream;

import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client of the live stream (a WebSocket connection or an SSE response). Keeps, per query, the
 * id of the last event it was sent: an event at or before it is dropped, so catch-up and live relay
 * can overlap and the client still gets every event once, in order.
 *
 * <p>Nothing is written on the relay's thread: events go to a bounded outbound queue that a virtual
 * thread drains, so one client that stops reading never stalls the others. When the queue passes
 * its limits the client is cut off ({@link #closeSlow()}); it resumes with its last id.
 */
public abstract class Subscriber {
  private static final Logger log = LoggerFactory.getLogger(Subscriber.class);

  /** Writers block on the socket; virtual threads make that cheap and need none while idle. */
  private static final ExecutorService WRITERS = Executors.newVirtualThreadPerTaskExecutor();

  /** What waits to be written: an event, a frame of the protocol, or the end of the response. */
  protected record Outbound(String text, RelayedEvent event, boolean end) {}

  private final Map<UUID, String> cursors = new HashMap<>();
  private final Set<UUID> finished = new HashSet<>();

  /** Live events of queries whose replay is being read, held until the replay is sent. */
  private final Map<UUID, List<RelayedEvent>> held = new HashMap<>();

  // Null while nothing waits: an idle client (most of them) holds no queue.
  private ArrayDeque<Outbound> outbound;
  private volatile OutboundLimits limits;
  private long queuedChars;
  private boolean draining;
  private volatile boolean closed;

  public final Set<UUID> conversations = ConcurrentHashMap.newKeySet();
  public final Set<UUID> queries = ConcurrentHashMap.newKeySet();

  protected Subscriber(OutboundLimits limits) {
    this.limits = limits;
  }

  /** A key unique among the live subscribers of this process. */
  public abstract String id();

  /** The user whose queries this subscriber may see; null until authenticated. */
  public abstract UUID userId();

  /** Writes one item to the client, blocking while the client does not read. */
  protected abstract void write(Outbound item) throws IOException;

  /** Closes a client that fell behind its limits, telling it (where the protocol can) to resume. */
  protected abstract void closeSlow();

  /** Closes a client whose write failed. */
  protected abstract void abort();

  /** Called once the query's {@code query_completed} was queued for this subscriber. */
  protected void afterLast(UUID queryId) {}

  public void limits(OutboundLimits newLimits) {
    this.limits = newLimits;
  }

  public boolean wants(RelayedEvent event) {
    return queries.contains(event.queryId()) || conversations.contains(event.conversationId());
  }

  public boolean isClosed() {
    return closed;
  }

  /** Sends an event unless the client has it already (or holds it while a replay is read). */
  public synchronized void deliver(RelayedEvent event) {
    List<RelayedEvent> holding = held.get(event.queryId());
    if (holding != null) {
      holding.add(event);
      return;
    }
    sendOnce(event);
  }

  /** True once this subscriber was sent the query's {@code query_completed}. */
  public synchronized boolean hasFinished(UUID queryId) {
    return finished.contains(queryId);
  }

  private void sendOnce(RelayedEvent event) {
    UUID queryId = event.queryId();
    if (finished.contains(queryId)) {
      return;
    }
    String cursor = cursors.get(queryId);
    if (cursor != null && RelayedEvent.compareIds(event.id(), cursor) <= 0) {
      if (event.last()) {
        // The client had the end already (it resumed from it).
        cursors.remove(queryId);
        finished.add(queryId);
        afterLast(queryId);
      }
      return;
    }
    enqueue(new Outbound(event.json(), event, false));
    if (event.last()) {
      // Remember the end, not the id: a stream rebuilt from PostgreSQL has other ids.
      cursors.remove(queryId);
      finished.add(queryId);
      afterLast(queryId);
    } else {
      cursors.put(queryId, event.id());
    }
  }

  /**
   * Starts holding the query's live events: call before subscribing and reading the replay, so an
   * event that arrives meanwhile neither races ahead of the replay nor is lost. The relay thread
   * never waits for the replay's Redis read.
   */
  public synchronized void holdLive(UUID queryId) {
    held.putIfAbsent(queryId, new ArrayList<>());
  }

  /**
   * Raises the query's cursor to {@code after}, sends the replay beyond it, then the live events
   * held meanwhile; the cursor drops whatever the replay already sent.
   */
  public synchronized void catchUp(UUID queryId, String after, Iterable<RelayedEvent> replay) {
    List<RelayedEvent> heldLive = held.remove(queryId);
    if (after != null) {
      String cursor = cursors.get(queryId);
      if (cursor == null || RelayedEvent.compareIds(after, cursor) > 0) {
        cursors.put(queryId, after);
      }
    }
    for (RelayedEvent event : replay) {
      sendOnce(event);
    }
    if (heldLive != null) {
      heldLive.forEach(this::sendOnce);
    }
  }

  /** Marks the query as finished for this client, which has its last event already. */
  public synchronized void alreadyFinished(UUID queryId) {
    if (finished.add(queryId)) {
      cursors.remove(queryId);
      afterLast(queryId);
    }
  }

  /** Queues a protocol frame (no event id) for the client. */
  public void send(String text) {
    enqueue(new Outbound(text, null, false));
  }

  /** Queues the end of the response: written after everything queued before it. */
  protected void end() {
    enqueue(new Outbound(null, null, true));
  }

  /** Characters queued for this client and not yet written. */
  public synchronized long queuedChars() {
    return queuedChars;
  }

  private synchronized void enqueue(Outbound item) {
    if (closed) {
      return;
    }
    int size = item.text() == null ? 0 : item.text().length();
    OutboundLimits l = limits;
    int queued = outbound == null ? 0 : outbound.size();
    if (queued + 1 > l.maxEvents() || queuedChars + size > l.maxChars()) {
      log.info(
          "subscriber {} fell behind ({} events, {} chars queued); closing it",
          id(),
          queued,
          queuedChars);
      closed = true;
      dropQueue();
      WRITERS.execute(this::closeSlow);
      return;
    }
    if (outbound == null) {
      outbound = new ArrayDeque<>(8);
    }
    outbound.add(item);
    queuedChars += size;
    if (!draining) {
      draining = true;
      WRITERS.execute(this::drain);
    }
  }

  private void drain() {
    while (true) {
      Outbound item;
      synchronized (this) {
        item = outbound == null ? null : outbound.poll();
        if (item == null || closed) {
          outbound = null;
          draining = false;
          return;
        }
      }
      try {
        write(item);
      } catch (IOException | RuntimeException e) {
        log.debug("subscriber {} write failed: {}", id(), e.toString());
        synchronized (this) {
          closed = true;
          dropQueue();
          draining = false;
        }
        abort();
        return;
      }
      synchronized (this) {
        queuedChars -= item.text() == null ? 0 : item.text().length();
      }
      if (item.end()) {
        synchronized (this) {
          closed = true;
          draining = false;
          dropQueue();
        }
        return;
      }
    }
  }

  /** Stops queueing for a client that went away. */
  public synchronized void markClosed() {
    closed = true;
    dropQueue();
  }

  private synchronized void dropQueue() {
    outbound = null;
    queuedChars = 0;
  }
}
