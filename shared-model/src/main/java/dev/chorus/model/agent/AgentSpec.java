package dev.chorus.model.agent;

/**
 * One agent of a query: a provider and model, with an optional persona. {@code name} is unique
 * within a query once the api-server has normalized it (see {@link #defaultName()}).
 */
public record AgentSpec(
    String provider,
    String model,
    String name,
    String systemPrompt,
    Double temperature,
    Integer maxTokens) {

  public String defaultName() {
    return provider + "/" + model;
  }

  public AgentSpec withName(String newName) {
    return new AgentSpec(provider, model, newName, systemPrompt, temperature, maxTokens);
  }
}
