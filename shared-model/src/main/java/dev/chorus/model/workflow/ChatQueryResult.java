package dev.chorus.model.workflow;

import dev.chorus.model.api.QueryStatus;
import java.util.List;

public record ChatQueryResult(QueryStatus status, List<AgentOutcome> outcomes) {}
