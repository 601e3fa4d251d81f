package dev.chorus.worker.catalog;

import dev.chorus.worker.provider.ChatProvider;
import dev.chorus.worker.provider.Endpoint;
import dev.chorus.worker.provider.ModelInfo;
import dev.chorus.worker.provider.ProviderRegistry;
import io.temporal.failure.ApplicationFailure;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.beans.factory.InitializingBean;
import org.springframework.stereotype.Component;

/**
 * Registers the providers this worker serves (before it polls any task), then keeps their health
 * and model catalogs fresh from each provider's list endpoint, with the server's own key. Providers
 * without a server key are listed as UNCONFIGURED: users may still bring their own key.
 */
@Component
public class CatalogSync implements InitializingBean, DisposableBean {
  private static final Logger log = LoggerFactory.getLogger(CatalogSync.class);

  private final ProviderRegistry providers;
  private final ProviderDirectory directory;
  private final CatalogProperties properties;
  private final ScheduledExecutorService scheduler =
      Executors.newSingleThreadScheduledExecutor(
          Thread.ofPlatform().name("catalog-sync").daemon().factory());

  public CatalogSync(
      ProviderRegistry providers, ProviderDirectory directory, CatalogProperties properties) {
    this.providers = providers;
    this.directory = directory;
    this.properties = properties;
  }

  @Override
  public void afterPropertiesSet() {
    providers.all().forEach(directory::register);
    long period = properties.syncInterval().toMillis();
    scheduler.scheduleWithFixedDelay(
        this::syncAllQuietly, properties.syncOnStart() ? 0 : period, period, TimeUnit.MILLISECONDS);
  }

  private void syncAllQuietly() {
    for (ChatProvider provider : providers.all()) {
      try {
        if (!directory.syncedWithin(provider.id(), properties.syncInterval().dividedBy(2))) {
          sync(provider);
        }
      } catch (RuntimeException e) {
        log.warn("catalog sync of {} failed: {}", provider.id(), e.toString());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  /** Fetches one provider's models and records its health. */
  public void sync(ChatProvider provider) throws InterruptedException {
    Optional<Endpoint> endpoint = provider.serverEndpoint();
    if (endpoint.isEmpty()) {
      directory.recordHealth(
          provider.id(),
          ProviderDirectory.Health.UNCONFIGURED,
          "no server key; users can store their own with PUT /api/me/credentials/" + provider.id(),
          null);
      return;
    }
    long started = System.nanoTime();
    try {
      List<ModelInfo> models =
          provider.listModels(endpoint.get()).stream()
              .sorted(Comparator.comparing(ModelInfo::id))
              .limit(properties.maxModels())
              .toList();
      long latency = (System.nanoTime() - started) / 1_000_000;
      directory.replaceModels(provider.id(), models);
      directory.recordHealth(
          provider.id(), ProviderDirectory.Health.UP, models.size() + " models", latency);
    } catch (ApplicationFailure failure) {
      long latency = (System.nanoTime() - started) / 1_000_000;
      String detail = failure.getType() + ": " + failure.getOriginalMessage();
      directory.recordHealth(provider.id(), ProviderDirectory.Health.DOWN, detail, latency);
      log.warn("provider {} is down: {}", provider.id(), detail);
    }
  }

  @Override
  public void destroy() {
    scheduler.shutdownNow();
  }
}
