package dev.chorus.model.agent;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import dev.chorus.model.json.ChorusJson;
import java.util.List;

/** The JSON form of an agent list, as stored in the {@code agents} jsonb columns. */
public final class AgentListJson {
  private static final TypeReference<List<AgentSpec>> TYPE = new TypeReference<>() {};

  private AgentListJson() {}

  public static List<AgentSpec> read(String json) {
    try {
      return ChorusJson.mapper().readValue(json, TYPE);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("stored agent list is not valid JSON", e);
    }
  }

  public static String write(List<AgentSpec> agents) {
    try {
      return ChorusJson.mapper().writeValueAsString(agents);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("agent list cannot be written as JSON", e);
    }
  }
}
