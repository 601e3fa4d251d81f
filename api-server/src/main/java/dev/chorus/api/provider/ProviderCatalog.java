package dev.chorus.api.provider;

import java.math.BigDecimal;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Component;

/**
 * The providers the workers serve, their health and model catalogs, as the workers recorded them in
 * PostgreSQL. The api-server never talks to a provider itself.
 */
@Component
public class ProviderCatalog {
  private final JdbcClient jdbc;

  ProviderCatalog(JdbcClient jdbc) {
    this.jdbc = jdbc;
  }

  public record Provider(
      String id,
      String kind,
      boolean serverConfigured,
      String health,
      String healthDetail,
      Long latencyMs,
      Instant checkedAt,
      Instant modelsSyncedAt) {}

  public record Model(
      String id,
      String displayName,
      Integer contextWindow,
      Integer maxOutputTokens,
      BigDecimal inputUsdPerMtok,
      BigDecimal outputUsdPerMtok) {}

  public Optional<Provider> find(String id) {
    return jdbc.sql("SELECT * FROM providers WHERE id = :id")
        .param("id", id)
        .query(ProviderCatalog::provider)
        .optional();
  }

  public List<Provider> all() {
    return jdbc.sql("SELECT * FROM providers ORDER BY id").query(ProviderCatalog::provider).list();
  }

  /** Every provider's models, by provider id, in model order. */
  public Map<String, List<Model>> models() {
    Map<String, List<Model>> out = new LinkedHashMap<>();
    jdbc.sql("SELECT * FROM provider_models ORDER BY provider, model")
        .query(rs -> {
          out.computeIfAbsent(rs.getString("provider"), k -> new java.util.ArrayList<>())
              .add(
                  new Model(
                      rs.getString("model"),
                      rs.getString("display_name"),
                      rs.getObject("context_window", Integer.class),
                      rs.getObject("max_output_tokens", Integer.class),
                      rs.getBigDecimal("input_usd_per_mtok"),
                      rs.getBigDecimal("output_usd_per_mtok")));
        });
    return out;
  }

  /** The providers {@code userId} stored an own key or base URL for. */
  public Set<String> userCredentials(UUID userId) {
    return jdbc
        .sql("SELECT provider FROM user_credentials WHERE user_id = :user")
        .param("user", userId)
        .query(String.class)
        .stream()
        .collect(Collectors.toSet());
  }

  private static Provider provider(ResultSet rs, int row) throws SQLException {
    return new Provider(
        rs.getString("id"),
        rs.getString("kind"),
        rs.getBoolean("server_configured"),
        rs.getString("health"),
        rs.getString("health_detail"),
        rs.getObject("latency_ms", Long.class),
        instant(rs.getTimestamp("checked_at")),
        instant(rs.getTimestamp("models_synced_at")));
  }

  private static Instant instant(Timestamp ts) {
    return ts == null ? null : ts.toInstant();
  }
}
