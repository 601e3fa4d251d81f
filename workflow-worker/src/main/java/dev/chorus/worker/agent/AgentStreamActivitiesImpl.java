package dev.chorus.worker.agent;

import dev.chorus.model.agent.Usage;
import dev.chorus.model.api.ResponseStatus;
import dev.chorus.model.event.QueryEvent;
import dev.chorus.model.workflow.AgentOutcome;
import dev.chorus.model.workflow.AgentStreamActivities;
import dev.chorus.model.workflow.AgentTask;
import dev.chorus.worker.pricing.PriceTable;
import dev.chorus.worker.provider.ChatProvider;
import dev.chorus.worker.provider.ChatRequest;
import dev.chorus.worker.provider.EndpointResolver;
import dev.chorus.worker.provider.ProviderRegistry;
import dev.chorus.worker.provider.StreamEnd;
import dev.chorus.worker.query.QueryStore;
import dev.chorus.worker.stream.QueryEventPublisher;
import io.temporal.activity.Activity;
import io.temporal.activity.ActivityExecutionContext;
import java.util.concurrent.atomic.AtomicInteger;
import org.springframework.stereotype.Component;

/**
 * Streams one agent's answer: every delta goes to the query's Redis Stream as it arrives, the
 * activity heartbeats with the length produced so far, and the final text is persisted once.
 */
@Component
public class AgentStreamActivitiesImpl implements AgentStreamActivities {
  static final int CONTEXT_TURNS = 20;

  private final ProviderRegistry providers;
  private final QueryStore store;
  private final QueryEventPublisher events;
  private final HeartbeatKeeper heartbeats;
  private final EndpointResolver endpoints;
  private final PriceTable pricing;

  AgentStreamActivitiesImpl(
      ProviderRegistry providers,
      QueryStore store,
      QueryEventPublisher events,
      HeartbeatKeeper heartbeats,
      EndpointResolver endpoints,
      PriceTable pricing) {
    this.providers = providers;
    this.endpoints = endpoints;
    this.pricing = pricing;
    this.store = store;
    this.events = events;
    this.heartbeats = heartbeats;
  }

  @Override
  public AgentOutcome streamResponse(AgentTask task) {
    ActivityExecutionContext context = Activity.getExecutionContext();
    int attempt = context.getInfo().getAttempt();
    String agent = task.agent().name();
    ChatProvider provider = providers.get(task.agent().provider());
    var request =
        new ChatRequest(
            task.agent().model(),
            store.loadContext(task, CONTEXT_TURNS),
            task.agent().temperature(),
            task.agent().maxTokens(),
            null,
            attempt);

    store.startResponse(task, attempt);
    if (attempt > 1) {
      // Until checkpoint resume lands, a new attempt restarts the answer from the beginning.
      events.publish(
          new QueryEvent.ResponseRetrying(
              task.queryId(), task.conversationId(), agent, attempt, "previous attempt failed", 0));
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
    StringBuilder text = new StringBuilder();
    AtomicInteger produced = new AtomicInteger();
    long[] seq = {0};
    StreamEnd end;
    try (HeartbeatKeeper.Handle keeper = heartbeats.keep(context, produced::get)) {
      end =
          provider.stream(
              endpoints.resolve(provider, task),
              request,
              delta -> {
                if (delta.isEmpty()) {
                  return;
                }
                text.append(delta);
                produced.set(text.length());
                events.publish(
                    new QueryEvent.Delta(
                        task.queryId(), task.conversationId(), agent, attempt, seq[0]++, delta));
                context.heartbeat(text.length());
              },
              keeper);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw Activity.wrap(e);
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
}
