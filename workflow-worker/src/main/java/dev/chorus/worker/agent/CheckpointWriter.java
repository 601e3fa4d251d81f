package dev.chorus.worker.agent;

import dev.chorus.model.workflow.AgentTask;
import dev.chorus.worker.query.QueryStore;
import dev.chorus.worker.query.QueryStore.Checkpoint;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.stereotype.Component;

/**
 * Saves streaming attempts' checkpoints off their delta callbacks. A provider sends the next chunk
 * whether or not PostgreSQL answered the last write; with 500 streams checkpointing twice a second
 * on ten pooled connections, a callback that waited for its UPDATE stalled its stream (and the
 * stream's clients saw a gap). One thread writes every pending checkpoint in one batch instead.
 *
 * <p>What a checkpoint holds is unchanged: the attempt's text as published, offered after the
 * delta's XADD returned, so it never holds text a client was not sent. A checkpoint that is still
 * pending when the process dies is lost, and the next attempt continues from the one before it, as
 * it would have a moment earlier. Each attempt has at most one write pending or running; {@link
 * Stream#flush} waits for it, so a late batch never replaces the attempt's final checkpoint with
 * shorter text. Writes of an attempt that a newer one superseded change nothing ({@link
 * QueryStore#checkpoint}).
 */
@Component
class CheckpointWriter implements DisposableBean {
  private static final Logger log = LoggerFactory.getLogger(CheckpointWriter.class);

  private final QueryStore store;
  private final LinkedBlockingQueue<Stream> dirty = new LinkedBlockingQueue<>();
  private final Thread writer;

  CheckpointWriter(QueryStore store) {
    this.store = store;
    this.writer = Thread.ofPlatform().name("checkpoint-writer").daemon().start(this::run);
  }

  /** The checkpoints of one attempt. */
  Stream open(AgentTask task, int attempt) {
    return new Stream(task, attempt);
  }

  final class Stream {
    private final AgentTask task;
    private final int attempt;
    private String pending;
    private boolean writing;
    private boolean flushed;

    private Stream(AgentTask task, int attempt) {
      this.task = task;
      this.attempt = attempt;
    }

    /** Saves {@code text} soon, unless a newer offer or {@link #flush} comes first. */
    void offer(String text) {
      boolean queue;
      synchronized (this) {
        if (flushed) {
          return;
        }
        queue = pending == null && !writing;
        pending = text;
      }
      if (queue) {
        dirty.add(this);
      }
    }

    /**
     * Saves {@code text} now, after any write of this attempt still running, and drops what was
     * pending; later offers are ignored.
     */
    void flush(String text) {
      boolean interrupted = false;
      synchronized (this) {
        flushed = true;
        pending = null;
        while (writing) {
          try {
            wait();
          } catch (InterruptedException e) {
            // A cancelled attempt's thread is interrupted; its last checkpoint still counts.
            interrupted = true;
          }
        }
      }
      try {
        store.checkpoint(task, attempt, text);
      } finally {
        if (interrupted) {
          Thread.currentThread().interrupt();
        }
      }
    }

    /** Ends the attempt's checkpoints without a last write (it completed or was cancelled). */
    synchronized void close() {
      flushed = true;
      pending = null;
    }

    private synchronized Checkpoint take() {
      if (pending == null) {
        return null;
      }
      Checkpoint c = new Checkpoint(task, attempt, pending);
      pending = null;
      writing = true;
      return c;
    }

    private void written() {
      boolean again;
      synchronized (this) {
        writing = false;
        notifyAll();
        again = pending != null;
      }
      if (again) {
        dirty.add(this);
      }
    }
  }

  private void run() {
    List<Stream> streams = new ArrayList<>();
    List<Checkpoint> batch = new ArrayList<>();
    List<Stream> taken = new ArrayList<>();
    while (true) {
      try {
        streams.add(dirty.take());
      } catch (InterruptedException e) {
        return;
      }
      dirty.drainTo(streams);
      for (Stream s : streams) {
        Checkpoint c = s.take();
        if (c != null) {
          batch.add(c);
          taken.add(s);
        }
      }
      try {
        store.checkpointAll(batch);
      } catch (RuntimeException e) {
        // The attempt keeps streaming; its next offer (or its final flush) tries again.
        log.warn("saving {} checkpoints failed: {}", batch.size(), e.toString());
      } finally {
        taken.forEach(Stream::written);
        streams.clear();
        batch.clear();
        taken.clear();
      }
    }
  }

  @Override
  public void destroy() {
    writer.interrupt();
  }
}
