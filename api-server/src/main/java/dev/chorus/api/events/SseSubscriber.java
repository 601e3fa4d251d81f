package dev.chorus.api.events;

import dev.chorus.api.stream.OutboundLimits;
import dev.chorus.api.stream.RelayedEvent;
import dev.chorus.api.stream.Subscriber;
import java.io.IOException;
import java.util.UUID;
import org.springframework.web.servlet.mvc.method.annotation.SseEmitter;

/** One SSE response following one query; it ends after the query's {@code query_completed}. */
final class SseSubscriber extends Subscriber {
  private static final String HEARTBEAT = "heartbeat";
  private static final String SLOW =
      "{\"type\":\"error\",\"code\":\"slow_consumer\","
          + "\"message\":\"the client fell behind; reconnect with Last-Event-ID\"}";

  private final String id = UUID.randomUUID().toString();
  private final SseEmitter emitter;
  private final UUID userId;
  private final UUID queryId;

  SseSubscriber(SseEmitter emitter, UUID userId, UUID queryId, OutboundLimits limits) {
    super(limits);
    this.emitter = emitter;
    this.userId = userId;
    this.queryId = queryId;
  }

  @Override
  public String id() {
    return "sse-" + id;
  }

  @Override
  public UUID userId() {
    return userId;
  }

  /** A comment line: keeps proxies from closing an idle response, and finds dead clients. */
  void heartbeat() {
    send(HEARTBEAT);
  }

  @Override
  protected void afterLast(UUID finishedQuery) {
    if (finishedQuery.equals(queryId)) {
      end();
    }
  }

  @Override
  protected void write(Outbound item) throws IOException {
    if (item.end()) {
      emitter.complete();
      return;
    }
    RelayedEvent event = item.event();
    if (event != null) {
      emitter.send(SseEmitter.event().id(event.id()).name(event.type()).data(event.json()));
    } else {
      emitter.send(SseEmitter.event().comment(item.text()));
    }
  }

  @Override
  protected void closeSlow() {
    try {
      emitter.send(SseEmitter.event().name("error").data(SLOW));
      emitter.complete();
    } catch (IOException | IllegalStateException e) {
      emitter.completeWithError(e);
    }
  }

  @Override
  protected void abort() {
    try {
      emitter.complete();
    } catch (IllegalStateException ignored) {
      // Completed already.
    }
  }
}
