package dev.chorus.api.preset;

import dev.chorus.model.agent.AgentSpec;
import java.time.Instant;
import java.util.List;
import java.util.UUID;

/**
 * A named agent set with its settings.
 *
 * @param visibility {@code private} (its owner only) or {@code public} (listed to every user)
 * @param owned whether the caller owns it, and so may change or delete it
 */
public record PresetView(
    UUID id,
    String name,
    String description,
    List<AgentSpec> agents,
    String systemPrompt,
    Double temperature,
    String visibility,
    boolean owned,
    Instant createdAt,
    Instant updatedAt) {}
