package dev.chorus.model.workflow;

import java.util.List;

/**
 * How a query's answers were ranked, kept small for workflow history: the agent names best first
 * and the method, {@value #JUDGE} (a judge model scored them) or {@value #BUILTIN} (the built-in
 * deterministic scorer), or {@value #NONE} when there was nothing to rank. The summaries and scores
 * themselves are in PostgreSQL.
 */
public record RankingResult(List<String> ranking, String method) {
  public static final String JUDGE = "judge";
  public static final String BUILTIN = "builtin";
  public static final String NONE = "none";

  public static RankingResult empty() {
    return new RankingResult(List.of(), NONE);
  }
}
