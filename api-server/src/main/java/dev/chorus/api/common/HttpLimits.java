package dev.chorus.api.common;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.unit.DataSize;

/**
 * Limits every request shares, whatever the route.
 *
 * @param maxBodyBytes the largest request body accepted; longer ones get 413 before a handler
 *     buffers them. Per-field limits (message length, agents per query) stay with their routes.
 */
@ConfigurationProperties("chorus.http")
public record HttpLimits(@DefaultValue("1MB") DataSize maxBodyBytes) {}
