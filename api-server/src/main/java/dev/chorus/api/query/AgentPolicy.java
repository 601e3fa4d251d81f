package dev.chorus.api.query;

import dev.chorus.api.common.ApiException;
import dev.chorus.model.agent.AgentSpec;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.springframework.http.HttpStatus;
import org.springframework.stereotype.Component;

/** Validates agent lists and gives every agent a name that is unique within its query. */
@Component
public class AgentPolicy {
  static final int MAX_FIELD = 200;
  static final int MAX_SYSTEM_PROMPT = 20_000;

  private final AgentProperties properties;

  AgentPolicy(AgentProperties properties) {
    this.properties = properties;
  }

  public List<AgentSpec> defaults() {
    return normalize(properties.defaultsOrMock());
  }

  public List<AgentSpec> normalize(List<AgentSpec> agents) {
    if (agents.size() > properties.maxPerQuery()) {
      throw invalid("at most " + properties.maxPerQuery() + " agents per query");
    }
    Set<String> names = new HashSet<>();
    List<AgentSpec> out = new ArrayList<>(agents.size());
    for (AgentSpec agent : agents) {
      if (agent == null || blank(agent.provider()) || blank(agent.model())) {
        throw invalid("every agent needs a provider and a model");
      }
      if (!properties.providers().contains(agent.provider())) {
        throw invalid(
            "provider '"
                + agent.provider()
                + "' is not configured; use one of "
                + properties.providers());
      }
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

  private static boolean blank(String s) {
    return s == null || s.isBlank();
  }

  private static ApiException invalid(String detail) {
    return new ApiException(HttpStatus.BAD_REQUEST, "invalid-agents", detail);
  }
}
