package dev.chorus.model.workflow;

import java.util.List;
import java.util.UUID;

/**
 * What the ranking activity needs: ids and the names of the agents whose answers completed. The
 * prompt, the answers, their latency and cost are read from PostgreSQL inside the activity, so no
 * text goes through workflow history.
 */
public record RankingTask(UUID queryId, UUID conversationId, UUID userId, List<String> agents) {}
