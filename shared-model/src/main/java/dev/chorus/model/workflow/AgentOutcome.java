package dev.chorus.model.workflow;

import dev.chorus.model.agent.Usage;
import dev.chorus.model.api.ResponseStatus;

/**
 * How one agent's response ended. The text is in PostgreSQL, not here.
 *
 * @param model {@code provider/model} that gave the answer (the last one tried when none did); set
 *     by the workflow, which knows whether a fallback took over
 */
public record AgentOutcome(
    String agent,
    ResponseStatus status,
    int contentChars,
    Usage usage,
    long latencyMs,
    String error,
    String model) {

  public AgentOutcome(
      String agent,
      ResponseStatus status,
      int contentChars,
      Usage usage,
      long latencyMs,
      String error) {
    this(agent, status, contentChars, usage, latencyMs, error, null);
  }

  public AgentOutcome withModel(String newModel) {
    return new AgentOutcome(agent, status, contentChars, usage, latencyMs, error, newModel);
  }
}
