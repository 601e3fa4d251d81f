package dev.chorus.model.api;

import java.time.Instant;
import java.util.List;
import java.util.UUID;

/**
 * A chat message as clients see it. Assistant messages name the query and agent that wrote them.
 *
 * @param parentId for a user message, the user message it follows on its branch (null for the
 *     first); for an assistant message, the user message it answers
 * @param siblings the ids of the alternatives at this point of the conversation, oldest first, this
 *     message included: the other versions of an edited user message, or an agent's other answers
 *     (regenerated) to the same user message; null where not computed (live events)
 * @param siblingIndex this message's position in {@code siblings}
 */
public record MessageView(
    UUID id,
    UUID conversationId,
    MessageRole role,
    String content,
    UUID queryId,
    String agent,
    Instant createdAt,
    UUID parentId,
    List<UUID> siblings,
    Integer siblingIndex) {

  /** A message without branch information (the shape before branches existed). */
  public MessageView(
      UUID id,
      UUID conversationId,
      MessageRole role,
      String content,
      UUID queryId,
      String agent,
      Instant createdAt) {
    this(id, conversationId, role, content, queryId, agent, createdAt, null, null, null);
  }

  /** This message placed among its {@code siblings} (ids, oldest first, itself included). */
  public MessageView withSiblings(List<UUID> ids) {
    return new MessageView(
        id,
        conversationId,
        role,
        content,
        queryId,
        agent,
        createdAt,
        parentId,
        List.copyOf(ids),
        ids.indexOf(id));
  }
}
