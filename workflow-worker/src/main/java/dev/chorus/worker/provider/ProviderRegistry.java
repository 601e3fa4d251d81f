package dev.chorus.worker.provider;

import io.temporal.failure.ApplicationFailure;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.springframework.stereotype.Component;

/** The providers this worker can call, by id. */
@Component
public class ProviderRegistry {
  public static final String UNKNOWN_PROVIDER = "UnknownProvider";

  private final Map<String, ChatProvider> providers;

  public ProviderRegistry(List<ChatProvider> providers) {
    this.providers =
        providers.stream()
            .collect(Collectors.toUnmodifiableMap(ChatProvider::id, Function.identity()));
  }

  public ChatProvider get(String id) {
    ChatProvider provider = providers.get(id);
    if (provider == null) {
      throw ApplicationFailure.newNonRetryableFailure(
          "provider '" + id + "' is not configured on this worker", UNKNOWN_PROVIDER);
    }
    return provider;
  }
}
