package dev.chorus.worker.catalog;

import static org.assertj.core.api.Assertions.assertThat;

import dev.chorus.model.agent.ProviderFailureType;
import dev.chorus.model.agent.ProviderKind;
import dev.chorus.worker.provider.Cancellation;
import dev.chorus.worker.provider.ChatProvider;
import dev.chorus.worker.provider.ChatRequest;
import dev.chorus.worker.provider.Endpoint;
import dev.chorus.worker.provider.ModelInfo;
import dev.chorus.worker.provider.ProviderFailure;
import dev.chorus.worker.provider.ProviderRegistry;
import dev.chorus.worker.provider.StreamEnd;
import dev.chorus.worker.provider.StreamSink;
import dev.chorus.worker.support.WorkerIntegrationTest;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;

/** Provider registration, health and catalog sync against the real PostgreSQL. */
@WorkerIntegrationTest
class CatalogSyncIT {
  @Autowired ProviderRegistry registry;
  @Autowired ProviderDirectory directory;
  @Autowired CatalogSync sync;
  @Autowired JdbcClient jdbc;

  @Test
  void everyServedProviderIsRegisteredAtStartWithoutItsKey() {
    List<Map<String, Object>> rows = jdbc.sql("SELECT * FROM providers").query().listOfRows();
    assertThat(rows)
        .extracting(r -> r.get("id"))
        .contains("mock", "openai", "anthropic", "gemini", "ollama");
    Map<String, Object> mock =
        rows.stream().filter(r -> r.get("id").equals("mock")).findFirst().orElseThrow();
    assertThat(mock).containsEntry("kind", "mock").containsEntry("server_configured", true);
    assertThat(rows.toString()).doesNotContainIgnoringCase("sk-");
  }

  @Test
  void aSyncStoresTheModelsWithTheirPricesAndMarksTheProviderUp() throws InterruptedException {
    sync.sync(registry.get("mock"));

    var models =
        jdbc.sql("SELECT * FROM provider_models WHERE provider = 'mock' ORDER BY model")
            .query()
            .listOfRows();
    assertThat(models).extracting(m -> m.get("model")).containsExactly("mock-1", "mock-2");
    assertThat(models.getFirst()).containsEntry("context_window", 8192);
    assertThat(((java.math.BigDecimal) models.getFirst().get("input_usd_per_mtok")).signum())
        .isZero();
    var provider = jdbc.sql("SELECT * FROM providers WHERE id = 'mock'").query().singleRow();
    assertThat(provider).containsEntry("health", "UP").containsEntry("health_detail", "2 models");
    assertThat(provider.get("models_synced_at")).isNotNull();
  }

  @Test
  void aFailingListEndpointMarksTheProviderDownAndKeepsTheLastCatalog()
      throws InterruptedException {
    String id = "it-flaky";
    AtomicReference<Supplier<List<ModelInfo>>> answer = new AtomicReference<>();
    ChatProvider flaky = new FakeProvider(id, () -> answer.get().get());
    directory.register(flaky);

    answer.set(() -> List.of(ModelInfo.of("a"), ModelInfo.of("b")));
    sync.sync(flaky);
    answer.set(() -> {
      throw ProviderFailure.of(ProviderFailureType.ProviderAuthFailed, "invalid key").exception();
    });
    sync.sync(flaky);

    var row =
        jdbc.sql("SELECT * FROM providers WHERE id = :id").param("id", id).query().singleRow();
    assertThat(row).containsEntry("health", "DOWN");
    assertThat((String) row.get("health_detail")).isEqualTo("ProviderAuthFailed: invalid key");
    assertThat(
            jdbc.sql("SELECT model FROM provider_models WHERE provider = :id ORDER BY model")
                .param("id", id)
                .query(String.class)
                .list())
        .containsExactly("a", "b");
  }

  @Test
  void aProviderWithoutAServerKeyIsUnconfiguredNotDown() throws InterruptedException {
    sync.sync(registry.get("anthropic"));
    var row = jdbc.sql("SELECT * FROM providers WHERE id = 'anthropic'").query().singleRow();
    if (Boolean.FALSE.equals(row.get("server_configured"))) {
      assertThat(row).containsEntry("health", "UNCONFIGURED");
      assertThat((String) row.get("health_detail")).contains("/api/me/credentials/anthropic");
    }
  }

  private record FakeProvider(String id, Supplier<List<ModelInfo>> models) implements ChatProvider {
    @Override
    public ProviderKind kind() {
      return ProviderKind.OPENAI_COMPATIBLE;
    }

    @Override
    public Optional<Endpoint> serverEndpoint() {
      return Optional.of(new Endpoint("http://flaky.invalid", "sk-secret-never-stored", false));
    }

    @Override
    public String defaultBaseUrl() {
      return "http://flaky.invalid";
    }

    @Override
    public StreamEnd stream(
        Endpoint endpoint, ChatRequest request, StreamSink sink, Cancellation cancellation) {
      throw new UnsupportedOperationException();
    }

    @Override
    public List<ModelInfo> listModels(Endpoint endpoint) {
      return models.get();
    }
  }
}
