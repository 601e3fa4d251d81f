package dev.chorus.worker.catalog;

import dev.chorus.worker.pricing.PriceTable;
import dev.chorus.worker.pricing.PricingProperties;
import dev.chorus.worker.provider.ChatProvider;
import dev.chorus.worker.provider.ModelInfo;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Component;
import org.springframework.transaction.annotation.Transactional;

/**
 * The {@code providers} and {@code provider_models} tables: what this worker serves, how healthy
 * each provider is, and its model catalog. Every write is an upsert, so several workers can run the
 * same sync.
 */
@Component
public class ProviderDirectory {
  public enum Health {
    UP,
    DOWN,
    UNCONFIGURED
  }

  private final JdbcClient jdbc;
  private final PriceTable prices;

  public ProviderDirectory(JdbcClient jdbc, PriceTable prices) {
    this.jdbc = jdbc;
    this.prices = prices;
  }

  /** Records that this worker serves {@code provider} (never its key). */
  public void register(ChatProvider provider) {
    jdbc.sql(
            """
            INSERT INTO providers (id, kind, base_url, server_configured)
            VALUES (:id, :kind, :baseUrl, :configured)
            ON CONFLICT (id) DO UPDATE
              SET kind = excluded.kind, base_url = excluded.base_url,
                  server_configured = excluded.server_configured, updated_at = now()
            """)
        .param("id", provider.id())
        .param("kind", provider.kind().id())
        .param("baseUrl", provider.serverEndpoint().map(e -> e.baseUrl()).orElse(null))
        .param("configured", provider.serverEndpoint().isPresent())
        .update();
  }

  public void recordHealth(String provider, Health health, String detail, Long latencyMs) {
    jdbc.sql(
            """
            UPDATE providers SET health = :health, health_detail = :detail, latency_ms = :latency,
                                 checked_at = now(), updated_at = now()
            WHERE id = :id
            """)
        .param("id", provider)
        .param("health", health.name())
        .param("detail", detail)
        .param("latency", latencyMs)
        .update();
  }

  /** Replaces the provider's catalog with {@code models}, priced from the price table. */
  @Transactional
  public void replaceModels(String provider, List<ModelInfo> models) {
    jdbc.sql("DELETE FROM provider_models WHERE provider = :id").param("id", provider).update();
    for (ModelInfo model : models) {
      Optional<PricingProperties.Price> price = prices.find(provider, model.id());
      jdbc.sql(
              """
              INSERT INTO provider_models (provider, model, display_name, context_window,
                                           max_output_tokens, input_usd_per_mtok,
                                           output_usd_per_mtok, synced_at)
              VALUES (:provider, :model, :name, :context, :maxOutput, :input, :output, now())
              ON CONFLICT (provider, model) DO NOTHING
              """)
          .param("provider", provider)
          .param("model", model.id())
          .param("name", model.displayName())
          .param("context", model.contextWindow())
          .param("maxOutput", model.maxOutputTokens())
          .param("input", price.map(PricingProperties.Price::inputPerMtok).orElse(null))
          .param("output", price.map(PricingProperties.Price::outputPerMtok).orElse(null))
          .update();
    }
    jdbc.sql("UPDATE providers SET models_synced_at = now() WHERE id = :id")
        .param("id", provider)
        .update();
  }

  /** Whether another worker synced {@code provider} within {@code window}. */
  public boolean syncedWithin(String provider, Duration window) {
    return jdbc.sql(
                """
                SELECT count(*) FROM providers
                WHERE id = :id AND checked_at > now() - make_interval(secs => :secs)
                """)
            .param("id", provider)
            .param("secs", (double) window.toSeconds())
            .query(Long.class)
            .single()
        > 0;
  }
}
