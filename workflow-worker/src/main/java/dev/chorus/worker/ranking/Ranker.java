package dev.chorus.worker.ranking;

import dev.chorus.model.api.AnswerSummary;
import dev.chorus.model.api.RankEntry;
import dev.chorus.model.workflow.RankingResult;
import dev.chorus.model.workflow.RankingTask;
import io.temporal.activity.ActivityExecutionContext;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

/**
 * Summarizes and ranks answers: by the judge model when one is configured, else — or when the judge
 * fails, times out or answers something invalid — by the built-in method. Latency and cost are
 * always measured, never judged.
 */
@Component
class Ranker {
  private static final Logger log = LoggerFactory.getLogger(Ranker.class);

  private final RankingProperties properties;
  private final Judge judge;
  private final JudgeGuards guards;
  private final BuiltinRanker builtin;

  Ranker(RankingProperties properties, Judge judge, JudgeGuards guards) {
    this.properties = properties;
    this.judge = judge;
    this.guards = guards;
    this.builtin = new BuiltinRanker(properties.weights());
    if (judge.configured()) {
      log.info("answers are ranked by the judge {}", judge.describe());
    }
  }

  /** Whether a judge model ranks (slow: an activity of its own) rather than the built-in method. */
  boolean judges() {
    return judge.configured();
  }

  /**
   * @param context the activity's (heartbeats, cancellation), or {@code null} outside one
   * @throws InterruptedException when the activity was cancelled while the judge ran
   */
  Ranking rank(
      RankingTask task,
      String prompt,
      List<Answer> answers,
      ActivityExecutionContext context,
      int attempt)
      throws InterruptedException {
    if (answers.isEmpty()) {
      return Ranking.empty();
    }
    if (!judge.configured()) {
      return builtin.rank(prompt, answers);
    }
    Map<String, Judge.Verdict> verdicts;
    JudgeGuards.Guard guard = guards.open(context, properties.judge().timeout());
    try {
      verdicts = judge.judge(task, prompt, answers, guard, attempt);
    } catch (InterruptedException e) {
      if (!guard.timedOut()) {
        throw e;
      }
      return fallBack(task, prompt, answers, "it took longer than " + properties.judge().timeout());
    } catch (RuntimeException e) {
      if (guard.cancelled() != null) {
        throw guard.cancelled();
      }
      return fallBack(task, prompt, answers, guard.timedOut() ? "it timed out" : e.getMessage());
    } finally {
      guard.close();
    }
    return judged(prompt, answers, verdicts);
  }

  private Ranking fallBack(RankingTask task, String prompt, List<Answer> answers, String why) {
    log.warn(
        "judge {} failed for query {}, ranking with the built-in method: {}",
        judge.describe(),
        task.queryId(),
        why);
    return builtin.rank(prompt, answers);
  }

  /** The judge's summaries and scores, with measured latency and cost. */
  private Ranking judged(String prompt, List<Answer> answers, Map<String, Judge.Verdict> verdicts) {
    Map<String, Map<String, Double>> measured = BuiltinRanker.metrics(prompt, answers);
    Map<String, Map<String, Double>> metrics = new LinkedHashMap<>();
    verdicts.forEach((agent, v) -> {
      Map<String, Double> m = new LinkedHashMap<>();
      m.put(RankEntry.RELEVANCE, v.relevance());
      m.put(RankEntry.AGREEMENT, v.agreement());
      m.put(RankEntry.COMPLETENESS, v.completeness());
      m.put(RankEntry.LATENCY, measured.get(agent).get(RankEntry.LATENCY));
      m.put(RankEntry.COST, measured.get(agent).get(RankEntry.COST));
      metrics.put(agent, m);
    });
    List<RankEntry> ranking = builtin.order(metrics);
    Map<String, Answer> byAgent = BuiltinRanker.byAgent(answers);
    List<AnswerSummary> summaries = new ArrayList<>();
    for (RankEntry entry : ranking) {
      Judge.Verdict v = verdicts.get(entry.agent());
      String reasoning =
          v.reasoning().isEmpty()
              ? BuiltinRanker.reason(entry, ranking, byAgent.get(entry.agent()).truncated())
              : v.reasoning();
      summaries.add(new AnswerSummary(entry.agent(), v.summary(), reasoning, v.keyPoints()));
    }
    return new Ranking(RankingResult.JUDGE, summaries, ranking);
  }
}
