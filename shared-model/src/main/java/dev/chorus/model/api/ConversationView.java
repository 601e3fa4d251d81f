package dev.chorus.model.api;

import dev.chorus.model.agent.AgentSpec;
import java.time.Instant;
import java.util.List;
import java.util.UUID;

public record ConversationView(
    UUID id,
    String title,
    List<AgentSpec> agents,
    boolean archived,
    Instant createdAt,
    Instant updatedAt) {}
