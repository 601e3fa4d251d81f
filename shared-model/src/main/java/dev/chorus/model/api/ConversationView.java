package dev.chorus.model.api;

import dev.chorus.model.agent.AgentSpec;
import java.time.Instant;
import java.util.List;
import java.util.UUID;

/**
 * A conversation as clients see it.
 *
 * @param systemPrompt default system prompt of new messages' agents that have none
 * @param temperature default temperature of new messages' agents that have none
 * @param presetId the preset it was created from, if any
 * @param currentMessageId the newest user message of the active branch
 * @param snippet in a search result, the matching text with the hits marked {@code **like this**}
 */
public record ConversationView(
    UUID id,
    String title,
    List<AgentSpec> agents,
    boolean archived,
    Instant createdAt,
    Instant updatedAt,
    String systemPrompt,
    Double temperature,
    UUID presetId,
    UUID currentMessageId,
    String snippet) {

  /** A conversation without settings (the shape before per-conversation settings existed). */
  public ConversationView(
      UUID id,
      String title,
      List<AgentSpec> agents,
      boolean archived,
      Instant createdAt,
      Instant updatedAt) {
    this(id, title, agents, archived, createdAt, updatedAt, null, null, null, null, null);
  }
}
