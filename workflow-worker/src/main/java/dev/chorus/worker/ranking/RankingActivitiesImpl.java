package dev.chorus.worker.ranking;

import dev.chorus.model.api.AnswerSummary;
import dev.chorus.model.event.QueryEvent;
import dev.chorus.model.workflow.RankingActivities;
import dev.chorus.model.workflow.RankingResult;
import dev.chorus.model.workflow.RankingTask;
import dev.chorus.worker.stream.QueryEventPublisher;
import io.temporal.activity.Activity;
import io.temporal.activity.ActivityExecutionContext;
import io.temporal.failure.ApplicationFailure;
import io.temporal.spring.boot.ActivityImpl;
import java.util.List;
import org.springframework.stereotype.Component;

/**
 * Summarizes and ranks a query's completed answers, on the queries task queue. The prompt and the
 * answers are read from PostgreSQL; the result is upserted there first and then published — one
 * {@code summary} event per answer, best first, then one {@code ranking} event. A retry after the
 * result was saved publishes the saved result again (identical events) instead of ranking anew, so
 * a judge is never asked twice for one query.
 */
@Component
@ActivityImpl(workers = "queries")
public class RankingActivitiesImpl implements RankingActivities {
  private final RankingStore store;
  private final Ranker ranker;
  private final QueryEventPublisher events;

  RankingActivitiesImpl(RankingStore store, Ranker ranker, QueryEventPublisher events) {
    this.store = store;
    this.ranker = ranker;
    this.events = events;
  }

  @Override
  public RankingResult rankAnswers(RankingTask task) {
    ActivityExecutionContext context = Activity.getExecutionContext();
    return rankOrWrap(task, context, context.getInfo().getAttempt());
  }

  @Override
  public RankingResult rankWithoutJudge(RankingTask task) {
    // Without a judge nothing here heartbeats, waits or counts attempts.
    return ranker.judges() ? null : rankOrWrap(task, null, 1);
  }

  /** {@link #rank}, with a cancel's interruption handed to Temporal as the activity's failure. */
  private RankingResult rankOrWrap(
      RankingTask task, ActivityExecutionContext context, int attempt) {
    try {
      return rank(task, context, attempt);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw Activity.wrap(e);
    }
  }

  RankingResult rank(RankingTask task, ActivityExecutionContext context, int attempt)
      throws InterruptedException {
    RankingStore.Query query =
        store
            .findQuery(task.queryId())
            .orElseThrow(() ->
                ApplicationFailure.newNonRetryableFailure(
                    "query " + task.queryId() + " does not exist", "QueryNotFound"));
    List<Answer> answers = store.completedAnswers(task.queryId(), task.agents());
    if (answers.isEmpty()) {
      return RankingResult.empty();
    }
    List<String> agents = answers.stream().map(Answer::agent).toList();
    Ranking ranking = store.findRanking(task.queryId(), agents).orElse(null);
    if (ranking == null) {
      ranking = ranker.rank(task, query.prompt(), answers, context, attempt);
      store.save(task.queryId(), ranking);
    }
    for (AnswerSummary summary : ranking.summaries()) {
      events.publish(QueryEvent.Summary.of(task.queryId(), query.conversationId(), summary));
    }
    events.publish(
        new QueryEvent.Ranking(task.queryId(), query.conversationId(), ranking.ranking()));
    return ranking.result();
  }
}
