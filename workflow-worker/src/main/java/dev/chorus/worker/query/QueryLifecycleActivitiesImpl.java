package dev.chorus.worker.query;

import dev.chorus.model.api.QueryStatus;
import dev.chorus.model.event.QueryEvent;
import dev.chorus.model.workflow.AgentTask;
import dev.chorus.model.workflow.QueryLifecycleActivities;
import dev.chorus.worker.notify.UserNotices;
import dev.chorus.worker.stream.QueryEventPublisher;
import io.micrometer.core.instrument.MeterRegistry;
import io.temporal.failure.ApplicationFailure;
import io.temporal.spring.boot.ActivityImpl;
import java.util.UUID;
import org.springframework.stereotype.Component;

@Component
@ActivityImpl(workers = "queries")
public class QueryLifecycleActivitiesImpl implements QueryLifecycleActivities {
  private final QueryStore store;
  private final QueryEventPublisher events;
  private final MeterRegistry meters;
  private final UserNotices notices;

  public QueryLifecycleActivitiesImpl(
      QueryStore store, QueryEventPublisher events, MeterRegistry meters, UserNotices notices) {
    this.store = store;
    this.events = events;
    this.meters = meters;
    this.notices = notices;
  }

  /**
   * Announces the query and its opening events, then marks it RUNNING. Events go first: a crash
   * between the two repeats an event (clients dedupe by message id) rather than losing it.
   */
  @Override
  public void markRunning(UUID queryId) {
    var query =
        store
            .findQuery(queryId)
            .orElseThrow(() ->
                ApplicationFailure.newNonRetryableFailure(
                    "query " + queryId + " does not exist", "QueryNotFound"));
    if (query.status() != QueryStatus.PENDING) {
      return;
    }
    var message = store.findMessage(query.messageId()).orElseThrow();
    events.publish(new QueryEvent.MessageCreated(queryId, query.conversationId(), message));
    events.publish(
        new QueryEvent.QueryStarted(
            queryId, query.conversationId(), query.withStatus(QueryStatus.RUNNING)));
    if (store.markRunning(queryId)) {
      meters.counter("chorus.queries.started").increment();
      notices.queryStatus(queryId, query.conversationId(), QueryStatus.RUNNING);
    }
  }

  @Override
  public void recordResponseFailure(AgentTask task, String error) {
    store.failResponse(task, error);
    events.publish(
        new QueryEvent.ResponseFailed(
            task.queryId(), task.conversationId(), task.agent().name(), error));
  }

  @Override
  public void recordResponseCancelled(AgentTask task) {
    store
        .markCancelled(task)
        .ifPresent(content ->
            events.publish(
                new QueryEvent.ResponseCancelled(
                    task.queryId(), task.conversationId(), task.agent().name(), content)));
  }

  @Override
  public void finishQuery(UUID queryId, UUID conversationId, QueryStatus status) {
    store.finishQuery(queryId, status);
    // A retried activity may count a query twice; rare, and cheaper than a read before each count.
    meters.counter("chorus.queries.finished", "status", status.name()).increment();
    events.publish(new QueryEvent.QueryCompleted(queryId, conversationId, status));
    events.expireLater(queryId);
    notices.queryStatus(queryId, conversationId, status);
  }
}
