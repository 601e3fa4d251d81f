package dev.chorus.api.auth;

import java.time.Duration;
import java.util.List;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * Cross-origin access to the REST API from browsers. None by default: the web UI is served by the
 * api-server itself, so only a UI hosted elsewhere needs its origin listed here.
 *
 * @param allowedOrigins exact origins or patterns ({@code https://*.example.com}); empty = none
 * @param maxAge how long browsers may cache a preflight answer
 */
@ConfigurationProperties("chorus.cors")
public record CorsProperties(
    @DefaultValue List<String> allowedOrigins, @DefaultValue("1h") Duration maxAge) {}
