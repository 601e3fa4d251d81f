package dev.chorus.model.workflow;

import dev.chorus.model.agent.AgentSpec;
import java.util.UUID;

/**
 * One agent's share of a query, as handed to the streaming activity. {@code userId} is how the
 * activity finds the user's own provider key: keys never travel through workflow history.
 */
public record AgentTask(
    UUID queryId, UUID conversationId, UUID messageId, AgentSpec agent, UUID userId) {}
