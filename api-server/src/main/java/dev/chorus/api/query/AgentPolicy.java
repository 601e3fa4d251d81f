package dev.chorus.api.query;

import dev.chorus.api.common.ApiException;
import dev.chorus.api.provider.ProviderCatalog;
import dev.chorus.model.agent.AgentSpec;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import org.springframework.http.HttpStatus;
import org.springframework.stereotype.Component;

/** Validates agent lists and gives every agent a name that is unique within its query. */
@Component
public class AgentPolicy {
  static final int MAX_FIELD = 200;
  static final int MAX_SYSTEM_PROMPT = 20_000;

  private final AgentProperties properties;
  private final ProviderCatalog catalog;

  AgentPolicy(AgentProperties properties, ProviderCatalog catalog) {
    this.properties = properties;
    this.catalog = catalog;
  }

  public List<AgentSpec> defaults(UUID userId) {
    return normalize(userId, properties.defaultsOrMock());
  }

  /**
   * Checks every agent (fields, limits, and that {@code userId} may use its provider: the server
   * holds a key for it or the user stored one) and gives each a name unique within the list.
   */
  public List<AgentSpec> normalize(UUID userId, List<AgentSpec> agents) {
    if (agents.size() > properties.maxPerQuery()) {
      throw invalid("at most " + properties.maxPerQuery() + " agents per query");
    }
    Set<String> names = new HashSet<>();
    List<AgentSpec> out = new ArrayList<>(agents.size());
    for (AgentSpec agent : agents) {
      if (agent == null || blank(agent.provider()) || blank(agent.model())) {
        throw invalid("every agent needs a provider and a model");
      }
      checkProvider(userId, agent.provider());
      if (agent.model().length() > MAX_FIELD
          || (agent.name() != null && agent.name().length() > MAX_FIELD)) {
        throw invalid("agent model and name are limited to " + MAX_FIELD + " characters");
      }
      if (agent.systemPrompt() != null && agent.systemPrompt().length() > MAX_SYSTEM_PROMPT) {
        throw invalid("systemPrompt is limited to " + MAX_SYSTEM_PROMPT + " characters");
      }
      if (agent.temperature() != null && (agent.temperature() < 0 || agent.temperature() > 2)) {
        throw invalid("temperature must be between 0 and 2");
      }
      if (agent.maxTokens() != null && agent.maxTokens() < 1) {
        throw invalid("maxTokens must be positive");
      }
      String base = blank(agent.name()) ? agent.defaultName() : agent.name().trim();
      String name = base;
      for (int n = 2; !names.add(name); n++) {
        name = base + "#" + n;
      }
      out.add(agent.withName(name));
    }
    return out;
  }

  private void checkProvider(UUID userId, String id) {
    var provider = catalog.find(id);
    if (provider.isEmpty()) {
      throw invalid(
          "provider '"
              + id
              + "' is not served by any worker; GET /api/providers lists the providers");
    }
    if (!provider.get().serverConfigured() && !catalog.userCredentials(userId).contains(id)) {
      throw invalid(
          "provider '"
              + id
              + "' has no server key; store your own with PUT /api/me/credentials/"
              + id);
    }
  }

  private static boolean blank(String s) {
    return s == null || s.isBlank();
  }

  private static ApiException invalid(String detail) {
    return new ApiException(HttpStatus.BAD_REQUEST, "invalid-agents", detail);
  }
}
