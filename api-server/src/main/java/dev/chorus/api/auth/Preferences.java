package dev.chorus.api.auth;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.chorus.api.common.ApiException;
import dev.chorus.api.query.AgentPolicy;
import dev.chorus.model.agent.AgentSpec;
import java.util.List;
import java.util.UUID;
import org.springframework.http.HttpStatus;
import org.springframework.stereotype.Component;

/**
 * A user's preferences: a JSON object the UI may keep its settings in, with {@code defaultAgents}
 * checked exactly like the agents of a query (so a default that could never run is refused when it
 * is saved, not when it is used).
 */
@Component
class Preferences {
  static final String DEFAULT_AGENTS = "defaultAgents";
  static final int MAX_BYTES = 16 * 1024;
  private static final TypeReference<List<AgentSpec>> AGENTS = new TypeReference<>() {};

  private final AgentPolicy agents;
  private final ObjectMapper json;

  Preferences(AgentPolicy agents, ObjectMapper json) {
    this.agents = agents;
    this.json = json;
  }

  /** Merges {@code patch} into {@code target} key by key; a null value removes its key. */
  void merge(UUID userId, ObjectNode target, JsonNode patch) {
    if (!patch.isObject()) {
      throw invalid("preferences must be a JSON object");
    }
    for (var field : patch.properties()) {
      String key = field.getKey();
      JsonNode value = field.getValue();
      if (value.isNull()) {
        target.remove(key);
      } else if (key.equals(DEFAULT_AGENTS)) {
        target.set(key, json.valueToTree(defaultAgents(userId, value)));
      } else {
        target.set(key, value);
      }
    }
    if (target.toString().length() > MAX_BYTES) {
      throw invalid("preferences are limited to " + MAX_BYTES + " characters of JSON");
    }
  }

  private List<AgentSpec> defaultAgents(UUID userId, JsonNode value) {
    if (!value.isArray()) {
      throw invalid("preferences.defaultAgents must be a list of agents");
    }
    List<AgentSpec> list;
    try {
      list = json.convertValue(value, AGENTS);
    } catch (IllegalArgumentException e) {
      throw invalid(
          "preferences.defaultAgents must be a list of {provider, model, name?, systemPrompt?,"
              + " temperature?, maxTokens?}");
    }
    try {
      return list.isEmpty() ? list : agents.normalize(userId, list);
    } catch (ApiException e) {
      throw new ApiException(e.status(), e.type(), "preferences.defaultAgents: " + e.getMessage());
    }
  }

  private static ApiException invalid(String detail) {
    return new ApiException(HttpStatus.BAD_REQUEST, "validation", detail);
  }
}
