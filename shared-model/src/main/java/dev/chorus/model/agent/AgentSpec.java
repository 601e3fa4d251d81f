package dev.chorus.model.agent;

import java.util.List;

/**
 * One agent of a query: a provider and model, with an optional persona. {@code name} is unique
 * within a query once the api-server has normalized it (see {@link #defaultName()}).
 *
 * @param fallbacks the models that take over, in order, when this one fails for good (not when it
 *     is cancelled); a fallback continues the answer under the same agent name. {@code null} or
 *     empty for none.
 */
public record AgentSpec(
    String provider,
    String model,
    String name,
    String systemPrompt,
    Double temperature,
    Integer maxTokens,
    List<Fallback> fallbacks) {

  /** A model to fall back to: the agent's persona and settings stay, provider and model change. */
  public record Fallback(String provider, String model) {
    @Override
    public String toString() {
      return provider + "/" + model;
    }
  }

  /** An agent without fallbacks (the shape before fallbacks existed). */
  public AgentSpec(
      String provider,
      String model,
      String name,
      String systemPrompt,
      Double temperature,
      Integer maxTokens) {
    this(provider, model, name, systemPrompt, temperature, maxTokens, null);
  }

  public String defaultName() {
    return provider + "/" + model;
  }

  public AgentSpec withName(String newName) {
    return new AgentSpec(provider, model, newName, systemPrompt, temperature, maxTokens, fallbacks);
  }

  /** The fallbacks, never null. */
  public List<Fallback> fallbackChain() {
    return fallbacks == null ? List.of() : fallbacks;
  }

  /**
   * This agent answered by {@code fallback}'s model: same name and persona, no further fallbacks
   * (the workflow walks the chain).
   */
  public AgentSpec answeredBy(Fallback fallback) {
    return new AgentSpec(
        fallback.provider(), fallback.model(), name, systemPrompt, temperature, maxTokens, null);
  }
}
