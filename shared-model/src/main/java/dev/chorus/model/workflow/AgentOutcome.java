package dev.chorus.model.workflow;

import dev.chorus.model.agent.Usage;
import dev.chorus.model.api.ResponseStatus;

/** How one agent's response ended. The text is in PostgreSQL, not here. */
public record AgentOutcome(
    String agent,
    ResponseStatus status,
    int contentChars,
    Usage usage,
    long latencyMs,
    String error) {}
