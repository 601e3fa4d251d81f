package dev.chorus.model.workflow;

import io.temporal.activity.ActivityInterface;
import io.temporal.activity.ActivityMethod;

/**
 * Summarizes and ranks the completed answers of a query once they are in, persists the result
 * (upserts keyed by query and agent) and publishes one {@code summary} event per answer and one
 * {@code ranking} event. Runs on {@link TaskQueues#QUERIES}. Safe to run twice: a retry after the
 * result was persisted publishes the same result again.
 */
@ActivityInterface
public interface RankingActivities {
  @ActivityMethod
  RankingResult rankAnswers(RankingTask task);

  /**
   * The same, run as a local activity inside the workflow task (no activity task, no dispatch
   * through the Temporal server) when the worker ranks with its built-in method, which takes
   * milliseconds. Returns {@code null} without doing anything when the worker has a judge model
   * configured: a judge may take minutes and heartbeats, so the workflow then schedules {@link
   * #rankAnswers} as an activity of its own.
   */
  @ActivityMethod
  RankingResult rankWithoutJudge(RankingTask task);
}
