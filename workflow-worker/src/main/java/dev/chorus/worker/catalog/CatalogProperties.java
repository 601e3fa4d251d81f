package dev.chorus.worker.catalog;

import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * How often each provider's model list is fetched (which is also its health check), and the cap on
 * models kept per provider.
 */
@ConfigurationProperties("chorus.catalog")
public record CatalogProperties(
    @DefaultValue("15m") Duration syncInterval,
    @DefaultValue("true") boolean syncOnStart,
    @DefaultValue("2000") int maxModels) {}
