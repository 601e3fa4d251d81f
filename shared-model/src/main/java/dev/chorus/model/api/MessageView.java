package dev.chorus.model.api;

import java.time.Instant;
import java.util.UUID;

/**
 * A chat message as clients see it. Assistant messages name the query and agent that wrote them.
 */
public record MessageView(
    UUID id,
    UUID conversationId,
    MessageRole role,
    String content,
    UUID queryId,
    String agent,
    Instant createdAt) {}
