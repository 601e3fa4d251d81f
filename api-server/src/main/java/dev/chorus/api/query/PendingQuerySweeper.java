package dev.chorus.api.query;

import java.time.Duration;
import java.time.Instant;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Component;

/**
 * Starts workflows whose start was lost (Temporal down, or the api-server died between commit and
 * start). Starting is idempotent by workflow id, so several api-servers may sweep at once.
 */
@Component
class PendingQuerySweeper {
  static final Duration GRACE = Duration.ofSeconds(10);
  private final QueryStore queries;
  private final WorkflowLauncher launcher;

  PendingQuerySweeper(QueryStore queries, WorkflowLauncher launcher) {
    this.queries = queries;
    this.launcher = launcher;
  }

  @Scheduled(initialDelayString = "10s", fixedDelayString = "${chorus.queries.sweep-interval:15s}")
  void sweep() {
    for (var input : queries.stalePending(Instant.now().minus(GRACE), 100)) {
      if (!launcher.start(input)) {
        return;
      }
    }
  }
}
