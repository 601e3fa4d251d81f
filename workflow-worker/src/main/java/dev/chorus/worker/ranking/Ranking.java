package dev.chorus.worker.ranking;

import dev.chorus.model.api.AnswerSummary;
import dev.chorus.model.api.RankEntry;
import dev.chorus.model.workflow.RankingResult;
import java.util.List;

/**
 * The summaries and ranking of a query's answers, both best first.
 *
 * @param method {@link RankingResult#JUDGE} or {@link RankingResult#BUILTIN}
 */
record Ranking(String method, List<AnswerSummary> summaries, List<RankEntry> ranking) {
  Ranking {
    summaries = List.copyOf(summaries);
    ranking = List.copyOf(ranking);
  }

  static Ranking empty() {
    return new Ranking(RankingResult.NONE, List.of(), List.of());
  }

  RankingResult result() {
    return ranking.isEmpty()
        ? RankingResult.empty()
        : new RankingResult(ranking.stream().map(RankEntry::agent).toList(), method);
  }
}
