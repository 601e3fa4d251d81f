package dev.chorus.api.ws;

import java.time.Duration;
import java.util.List;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * @param allowedOrigins browser origins allowed to open {@code /ws} (clients without an Origin
 *     header, such as scripts, are not affected)
 * @param maxFrameBytes the largest text frame a client may send; a larger one closes the connection
 *     with 1009
 * @param sendBufferBytes how much may queue for a slow client before it is disconnected
 * @param sendTimeLimit how long one send may block before the client counts as stuck
 * @param authTimeout how long a connection may stay unauthenticated before it is closed (4408)
 * @param maxAuthAttempts failed auth frames after which the connection is closed (4401)
 * @param heartbeatInterval how often the server sends a WebSocket ping and a {@code heartbeat}
 *     event
 * @param idleTimeout a connection that sent nothing (no frame, no pong) for this long is closed
 *     (4408)
 * @param maxSubscriptions conversations, queries and channels one connection may subscribe to
 * @param typingInterval at most one {@code typing} per conversation and connection is relayed in
 *     this interval; the rest are dropped silently (clients send one per keystroke)
 */
@ConfigurationProperties("chorus.ws")
public record WebSocketProperties(
    @DefaultValue({"http://localhost:*", "http://127.0.0.1:*"}) List<String> allowedOrigins,
    @DefaultValue("65536") int maxFrameBytes,
    @DefaultValue("1048576") int sendBufferBytes,
    @DefaultValue("10s") Duration sendTimeLimit,
    @DefaultValue("10s") Duration authTimeout,
    @DefaultValue("3") int maxAuthAttempts,
    @DefaultValue("25s") Duration heartbeatInterval,
    @DefaultValue("60s") Duration idleTimeout,
    @DefaultValue("100") int maxSubscriptions,
    @DefaultValue("2s") Duration typingInterval) {}
