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
public record AgentProperties(List<AgentSpec> defaults, @DefaultValue("8") int maxPerQuery) {

  public List<AgentSpec> defaultsOrMock() {
    return defaults == null || defaults.isEmpty()
        ? List.of(new AgentSpec("mock", "mock-1", null, null, null, null))
        : defaults;
  }
}
