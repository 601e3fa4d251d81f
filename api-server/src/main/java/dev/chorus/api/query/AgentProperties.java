package dev.chorus.api.query;

import dev.chorus.model.agent.AgentSpec;
import java.util.List;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * @param defaults the agents asked when neither the message nor the conversation names any
 * @param maxPerQuery upper bound on agents in one query
 */
@ConfigurationProperties("chorus.agents")
public record AgentProperties(List<DefaultAgent> defaults, @DefaultValue("8") int maxPerQuery) {

  /**
   * A default agent as configured. Its own record because Spring binds a record through its only
   * constructor, and {@link AgentSpec} has two (the one without fallbacks kept for its callers).
   */
  public record DefaultAgent(
      String provider,
      String model,
      String name,
      String systemPrompt,
      Double temperature,
      Integer maxTokens,
      List<AgentSpec.Fallback> fallbacks) {
    AgentSpec toSpec() {
      return new AgentSpec(
          provider,
          model,
          name,
          systemPrompt,
          temperature,
          maxTokens,
          fallbacks == null || fallbacks.isEmpty() ? null : fallbacks);
    }
  }

  public List<AgentSpec> defaultsOrMock() {
    return defaults == null || defaults.isEmpty()
        ? List.of(new AgentSpec("mock", "mock-1", null, null, null, null))
        : defaults.stream().map(DefaultAgent::toSpec).toList();
  }
}
