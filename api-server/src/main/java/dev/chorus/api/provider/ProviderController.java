package dev.chorus.api.provider;

import dev.chorus.api.auth.CurrentUser;
import io.swagger.v3.oas.annotations.Operation;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.springframework.security.core.annotation.AuthenticationPrincipal;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * {@code GET /api/providers}: what agents can name, whether the caller can use it, and its health.
 */
@RestController
@RequestMapping("/api/providers")
class ProviderController {

  /**
   * @param serverConfigured the server holds a key (or the provider needs none)
   * @param userConfigured the caller stored an own key or base URL for it
   * @param available agents naming this provider are accepted for the caller
   */
  record ProviderView(
      String id,
      String kind,
      boolean serverConfigured,
      boolean userConfigured,
      boolean available,
      Health health,
      Instant modelsSyncedAt,
      List<ProviderCatalog.Model> models) {}

  record Health(String status, String detail, Long latencyMs, Instant checkedAt) {}

  record ProviderList(List<ProviderView> items) {}

  private final ProviderCatalog catalog;

  ProviderController(ProviderCatalog catalog) {
    this.catalog = catalog;
  }

  @GetMapping
  @Operation(summary = "Providers, their models, prices and health")
  ProviderList list(@AuthenticationPrincipal CurrentUser user) {
    Set<String> own = catalog.userCredentials(user.id());
    Map<String, List<ProviderCatalog.Model>> models = catalog.models();
    return new ProviderList(
        catalog.all().stream()
            .map(p ->
                new ProviderView(
                    p.id(),
                    p.kind(),
                    p.serverConfigured(),
                    own.contains(p.id()),
                    p.serverConfigured() || own.contains(p.id()),
                    new Health(p.health(), p.healthDetail(), p.latencyMs(), p.checkedAt()),
                    p.modelsSyncedAt(),
                    models.getOrDefault(p.id(), List.of())))
            .toList());
  }
}
