package dev.chorus.worker.provider;

import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * Timeouts of provider calls. The read timeout bounds the wait for the next byte (first token
 * included); providers may lower or raise it for their own calls.
 */
@ConfigurationProperties("chorus.http")
public record ProviderHttpProperties(
    @DefaultValue("10s") Duration connectTimeout,
    @DefaultValue("120s") Duration readTimeout,
    @DefaultValue("30s") Duration writeTimeout) {}
