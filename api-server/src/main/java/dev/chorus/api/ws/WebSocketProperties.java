package dev.chorus.api.ws;

import java.time.Duration;
import java.util.List;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * @param allowedOrigins browser origins allowed to open {@code /ws} (clients without an Origin
 *     header, such as scripts, are not affected)
 * @param maxFrameBytes the largest text frame a client may send
 * @param sendBufferBytes how much may queue for a slow client before it is disconnected
 * @param sendTimeLimit how long one send may block before the client counts as stuck
 */
@ConfigurationProperties("chorus.ws")
public record WebSocketProperties(
    @DefaultValue({"http://localhost:*", "http://127.0.0.1:*"}) List<String> allowedOrigins,
    @DefaultValue("65536") int maxFrameBytes,
    @DefaultValue("1048576") int sendBufferBytes,
    @DefaultValue("10s") Duration sendTimeLimit) {}
