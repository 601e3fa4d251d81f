package dev.chorus.api.stream;

import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * @param keyPrefix prefix of every Redis key (the worker must use the same)
 * @param block how long one multiplexed XREAD waits for new entries
 * @param batch the most entries one XREAD returns
 * @param clientBufferEvents the most events queued for one slow client (WebSocket or SSE) before it
 *     is cut off
 * @param clientBufferChars the most characters of JSON queued for one slow client
 * @param sseHeartbeat how often an SSE response gets a comment line, so proxies keep it open
 * @param sseTimeout the longest an SSE response stays open (the client resumes with Last-Event-ID)
 */
@ConfigurationProperties("chorus.stream")
public record StreamProperties(
    @DefaultValue("chorus") String keyPrefix,
    @DefaultValue("1s") Duration block,
    @DefaultValue("1000") int batch,
    @DefaultValue("10000") int clientBufferEvents,
    @DefaultValue("4194304") long clientBufferChars,
    @DefaultValue("15s") Duration sseHeartbeat,
    @DefaultValue("30m") Duration sseTimeout) {

  public OutboundLimits clientLimits() {
    return new OutboundLimits(clientBufferEvents, clientBufferChars);
  }
}
