package dev.chorus.worker.agent;

import dev.chorus.model.agent.Usage;
import dev.chorus.model.api.ResponseStatus;
import dev.chorus.model.event.QueryEvent;
import dev.chorus.model.workflow.AgentOutcome;
import dev.chorus.model.workflow.AgentStreamActivities;
import dev.chorus.model.workflow.AgentTask;
import dev.chorus.worker.liveness.WorkerLiveness;
import dev.chorus.worker.pricing.PriceTable;
import dev.chorus.worker.provider.ChatMessage;
import dev.chorus.worker.provider.ChatProvider;
import dev.chorus.worker.provider.ChatRequest;
import dev.chorus.worker.provider.EndpointResolver;
import dev.chorus.worker.provider.ProviderRegistry;
import dev.chorus.worker.provider.StreamEnd;
import dev.chorus.worker.query.QueryStore;
import dev.chorus.worker.stream.QueryEventPublisher;
import io.temporal.activity.Activity;
import io.temporal.activity.ActivityExecutionContext;
import io.temporal.client.ActivityCanceledException;
import io.temporal.failure.ApplicationFailure;
import io.temporal.failure.TimeoutFailure;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.springframework.stereotype.Component;

/**
 * Streams one agent's answer: every delta goes to the query's Redis Stream as it arrives, the text
 * so far is checkpointed in PostgreSQL (twice a second off the delta callback through {@link
 * CheckpointWriter}, and synchronously when an attempt fails) while the activity heartbeats with
 * its length, and the final text is persisted once. A retry continues from the checkpoint (see
 * {@link Resume}) and says so with {@code response_retrying{resumeFrom}}; a cancelled agent keeps
 * what it streamed.
 */
@Component
public class AgentStreamActivitiesImpl implements AgentStreamActivities {
  /** How often the streamed text is saved for a next attempt to continue from. */
  static final Duration CHECKPOINT_EVERY = Duration.ofMillis(500);

  /** Failure type of an attempt that found a newer attempt of its agent already streaming. */
  static final String SUPERSEDED = "AttemptSuperseded";

  private final ProviderRegistry providers;
  private final QueryStore store;
  private final QueryEventPublisher events;
  private final HeartbeatKeeper heartbeats;
  private final EndpointResolver endpoints;
  private final PriceTable pricing;
  private final ContextProperties contextLimits;
  private final WorkerLiveness liveness;
  private final CheckpointWriter checkpoints;

  AgentStreamActivitiesImpl(
      ProviderRegistry providers,
      QueryStore store,
      QueryEventPublisher events,
      HeartbeatKeeper heartbeats,
      EndpointResolver endpoints,
      PriceTable pricing,
      ContextProperties contextLimits,
      WorkerLiveness liveness,
      CheckpointWriter checkpoints) {
    this.providers = providers;
    this.checkpoints = checkpoints;
    this.liveness = liveness;
    this.endpoints = endpoints;
    this.pricing = pricing;
    this.contextLimits = contextLimits;
    this.store = store;
    this.events = events;
    this.heartbeats = heartbeats;
  }

  @Override
  public AgentOutcome streamResponse(AgentTask task) {
    ActivityExecutionContext context = Activity.getExecutionContext();
    // Listed while it runs, so a peer fails it over within a second if this JVM dies.
    WorkerLiveness.Listing listed =
        liveness.track(
            context.getTaskToken(),
            "%s attempt %d of query %s"
                .formatted(
                    task.agent().name(),
                    task.attemptNumber(context.getInfo().getAttempt()),
                    task.queryId()));
    try {
      return stream(task, context);
    } finally {
      listed.close();
    }
  }

  private AgentOutcome stream(AgentTask task, ActivityExecutionContext context) {
    // A fallback model (task.handsOver()) starts at Temporal attempt 1 but continues the answer its
    // agent's earlier model left, under an attempt number after that model's.
    int modelAttempt = context.getInfo().getAttempt();
    int attempt = task.attemptNumber(modelAttempt);
    String agent = task.agent().name();
    ChatProvider provider = providers.get(task.agent().provider());
    Resume resume =
        modelAttempt > 1 || task.handsOver()
            ? Resume.plan(
                provider,
                task.handsOver() ? modelAttempt + 1 : modelAttempt,
                store.loadCheckpoint(task).orElse(""))
            : Resume.FRESH;
    var request =
        new ChatRequest(
            task.agent().model(),
            resume.messages(prompt(task)),
            task.agent().temperature(),
            task.agent().maxTokens(),
            resume.prefill(),
            modelAttempt);

    store.startResponse(task, attempt);
    store.checkpoint(task, attempt, resume.keep());
    if (attempt > 1) {
      events.publish(
          new QueryEvent.ResponseRetrying(
              task.queryId(),
              task.conversationId(),
              agent,
              attempt,
              task.handsOver() && modelAttempt == 1
                  ? task.handover().reason() + "; " + resume.reason()
                  : resume.reason(),
              resume.keep().length()));
    }
    events.publish(
        new QueryEvent.ResponseStarted(
            task.queryId(),
            task.conversationId(),
            agent,
            attempt,
            task.agent().provider(),
            task.agent().model()));

    long started = System.nanoTime();
    PublishedText text =
        new PublishedText(
            resume.keep(),
            events.commandTimeout(),
            // A newer attempt took over (Temporal timed this one out): stop paying for it.
            () ->
                ApplicationFailure.newFailure(
                    "attempt " + attempt + " of " + agent + " was superseded", SUPERSEDED));
    AtomicInteger produced = new AtomicInteger(text.length());
    long[] seq = {0};
    long[] checkpointed = {System.nanoTime()};
    StreamEnd end;
    HeartbeatKeeper.Handle keeper = heartbeats.keep(context, task.queryId(), produced::get);
    CheckpointWriter.Stream checkpoint = checkpoints.open(task, attempt);
    try (keeper) {
      try {
        end =
            provider.stream(
                endpoints.resolve(provider, task),
                request,
                delta -> {
                  if (delta.isEmpty()) {
                    return;
                  }
                  // The keeper's cancel waits while a delta is sent and counted, so its interrupt
                  // never cuts a write to Redis off halfway.
                  keeper.atomically(() -> {
                    // A delta counts as streamed once Redis confirmed it: the text checkpointed
                    // for a next attempt (also when a write fails) must never hold a delta no
                    // client could receive — clients keep resumeFrom = checkpoint length
                    // characters of it.
                    text.add(
                        events.publishAsync(
                            new QueryEvent.Delta(
                                task.queryId(),
                                task.conversationId(),
                                agent,
                                attempt,
                                seq[0]++,
                                delta)),
                        delta);
                    produced.set(text.length());
                    if (System.nanoTime() - checkpointed[0] >= CHECKPOINT_EVERY.toNanos()) {
                      checkpoint.offer(text.toString());
                      checkpointed[0] = System.nanoTime();
                    }
                  });
                  // No heartbeat here: the keeper beats on its own thread (the SDK
                  // holds a lock through each heartbeat RPC, and a slow one stalled the stream).
                },
                keeper);
      } finally {
        // Every delta still in flight either joins the text or fails it, before anything is saved.
        text.settle();
      }
      text.rethrowFailure();
    } catch (ActivityCanceledException cancelled) {
      if (requestedByWorkflow(cancelled)) {
        throw cancelled(task, attempt, text.toString(), started, cancelled);
      }
      checkpoint.flush(text.toString());
      throw cancelled;
    } catch (InterruptedException e) {
      if (keeper.stopReason() instanceof ActivityCanceledException cancelled
          && requestedByWorkflow(cancelled)) {
        throw cancelled(task, attempt, text.toString(), started, cancelled);
      }
      checkpoint.flush(text.toString());
      Thread.currentThread().interrupt();
      throw Activity.wrap(e);
    } catch (RuntimeException failed) {
      if (keeper.stopReason() instanceof ActivityCanceledException cancelled
          && requestedByWorkflow(cancelled)) {
        // The keeper's interrupt landed in a Redis or PostgreSQL call of the delta callback.
        Thread.interrupted();
        throw cancelled(task, attempt, text.toString(), started, cancelled);
      }
      // The next attempt continues from here: save everything this one streamed.
      checkpoint.flush(text.toString());
      throw failed;
    } finally {
      checkpoint.close();
    }
    Usage usage = pricing.price(task.agent().provider(), task.agent().model(), end.usage());
    long latencyMs = (System.nanoTime() - started) / 1_000_000;
    String content = text.toString();
    var messageId =
        store.completeResponse(task, attempt, content, usage, end.finishReason(), latencyMs);
    events.publish(
        new QueryEvent.ResponseCompleted(
            task.queryId(), task.conversationId(), agent, messageId, content, usage, latencyMs));
    return new AgentOutcome(
        agent, ResponseStatus.COMPLETED, content.length(), usage, latencyMs, null);
  }

  /**
   * The conversation as the agent sees it; for a debate step, with the earlier answers it is shown
   * (read here, by response name: their texts never pass through workflow history); fitted into the
   * context budget, older turns summarized.
   */
  private List<ChatMessage> prompt(AgentTask task) {
    var window = new ContextWindow(contextLimits.maxTokens());
    if (!task.debates()) {
      return window.fit(store.loadContext(task, contextLimits.maxTurns()));
    }
    return window.fit(
        DebatePrompt.build(
            task,
            store.loadContext(task, task.debate().speaker(), contextLimits.maxTurns()),
            store.completedContents(task.queryId(), task.debate().answers())));
  }

  /**
   * Whether the workflow asked for the cancel. The SDK raises the same exception when it could not
   * reach the server within the heartbeat timeout (a Temporal outage): that attempt is simply over,
   * and the next one continues from the checkpoint.
   */
  static boolean requestedByWorkflow(ActivityCanceledException cancelled) {
    for (Throwable t = cancelled.getCause(); t != null; t = t.getCause()) {
      if (t instanceof TimeoutFailure) {
        return false;
      }
    }
    return true;
  }

  /** Keeps what was streamed as the cancelled answer, tells the clients, and reports the cancel. */
  private ActivityCanceledException cancelled(
      AgentTask task,
      int attempt,
      String partial,
      long started,
      ActivityCanceledException cancelled) {
    store.cancelResponse(task, attempt, partial, (System.nanoTime() - started) / 1_000_000);
    events.publish(
        new QueryEvent.ResponseCancelled(
            task.queryId(), task.conversationId(), task.agent().name(), partial));
    return cancelled;
  }
}
