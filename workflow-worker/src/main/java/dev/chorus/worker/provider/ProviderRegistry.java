package dev.chorus.worker.provider;

import dev.chorus.model.agent.ProviderFailureType;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.springframework.stereotype.Component;

/** The providers this worker serves, by id: single provider beans plus provider groups. */
@Component
public class ProviderRegistry {
  private final Map<String, ChatProvider> providers = new LinkedHashMap<>();

  public ProviderRegistry(List<ChatProvider> singles, List<ChatProviderGroup> groups) {
    Stream.concat(singles.stream(), groups.stream().flatMap(g -> g.providers().stream()))
        .forEach(p -> {
          if (providers.putIfAbsent(p.id(), p) != null) {
            throw new IllegalStateException("two providers are named '" + p.id() + "'");
          }
        });
  }

  public ChatProvider get(String id) {
    ChatProvider provider = providers.get(id);
    if (provider == null) {
      throw ProviderFailure.of(
              ProviderFailureType.ProviderNotConfigured,
              "provider '" + id + "' is not served by this worker")
          .exception();
    }
    return provider;
  }

  public Collection<ChatProvider> all() {
    return providers.values();
  }
}
