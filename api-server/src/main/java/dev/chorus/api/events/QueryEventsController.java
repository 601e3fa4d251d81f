package dev.chorus.api.events;

import dev.chorus.api.auth.CurrentUser;
import dev.chorus.api.common.ApiException;
import dev.chorus.api.query.QueryService;
import dev.chorus.api.stream.RelayedEvent;
import dev.chorus.api.stream.StreamProperties;
import dev.chorus.api.ws.SubscriptionHub;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.security.core.annotation.AuthenticationPrincipal;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.servlet.mvc.method.annotation.SseEmitter;

/**
 * {@code GET /api/queries/{id}/events}: one query's events as Server-Sent Events, for curl and
 * scripts. Each event has {@code id:} (resume with {@code Last-Event-ID} or {@code ?after=}),
 * {@code event:} (its type) and the JSON of the WebSocket protocol as {@code data:}. What was
 * missed is replayed, then the live events follow; the response ends after {@code query_completed}.
 * It shares the relay and the hub with WebSocket: no thread per client.
 */
@RestController
class QueryEventsController {
  private final QueryService queries;
  private final SubscriptionHub hub;
  private final StreamProperties properties;
  private final Set<SseSubscriber> open = ConcurrentHashMap.newKeySet();

  QueryEventsController(QueryService queries, SubscriptionHub hub, StreamProperties properties) {
    this.queries = queries;
    this.hub = hub;
    this.properties = properties;
  }

  @GetMapping(path = "/api/queries/{id}/events", produces = MediaType.TEXT_EVENT_STREAM_VALUE)
  SseEmitter events(
      @AuthenticationPrincipal CurrentUser user,
      @PathVariable UUID id,
      @RequestHeader(name = "Last-Event-ID", required = false) String lastEventId,
      @RequestParam(name = "after", required = false) String afterParam) {
    String after = lastEventId != null && !lastEventId.isBlank() ? lastEventId : afterParam;
    if (after != null && !RelayedEvent.isValidId(after)) {
      throw new ApiException(
          HttpStatus.BAD_REQUEST,
          "invalid-event-id",
          "Last-Event-ID / after must be an event id such as 1732212345678-0");
    }
    // Checked before the stream starts, so another user's or an unknown query is a plain 404.
    var query = queries.get(user.id(), id);
    var emitter = new SseEmitter(properties.sseTimeout().toMillis());
    var subscriber = new SseSubscriber(emitter, user.id(), query.id(), properties.clientLimits());
    Runnable gone =
        () -> {
          open.remove(subscriber);
          hub.remove(subscriber);
        };
    emitter.onCompletion(gone);
    emitter.onTimeout(gone);
    emitter.onError(e -> gone.run());
    open.add(subscriber);
    hub.add(subscriber);
    hub.subscribeQuery(subscriber, query.id(), query.conversationId(), after);
    return emitter;
  }

  @Scheduled(
      fixedRateString = "${chorus.stream.sse-heartbeat:15s}",
      initialDelayString = "${chorus.stream.sse-heartbeat:15s}")
  void heartbeats() {
    for (SseSubscriber subscriber : open) {
      if (subscriber.isClosed()) {
        open.remove(subscriber);
      } else {
        subscriber.heartbeat();
      }
    }
  }
}
