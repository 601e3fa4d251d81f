package dev.chorus.api.stream;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectWriter;
import dev.chorus.model.agent.AgentSpec;
import dev.chorus.model.api.AnswerSummary;
import dev.chorus.model.api.QueryStatus;
import dev.chorus.model.api.QueryView;
import dev.chorus.model.api.ResponseView;
import dev.chorus.model.event.QueryEvent;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.springframework.stereotype.Component;

/**
 * The final events of a finished query, rebuilt from PostgreSQL (the record) for a subscriber whose
 * query stream expired or was lost by Redis: one {@code response_completed}, {@code
 * response_failed} or {@code response_cancelled} per agent, the summaries, the ranking and {@code
 * query_completed}.
 *
 * <p>Their ids are {@code <completedAt millis>-<1000000 + n>}: after every event the lost stream
 * held before the query finished (the worker writes the record first), so a client resuming from an
 * id of the old stream gets them, and one resuming from them gets nothing twice.
 */
@Component
public class StoredFinalEvents {
  static final long SEQ_BASE = 1_000_000L;

  private final ObjectWriter writer;

  public StoredFinalEvents(ObjectMapper json) {
    this.writer = json.writerFor(QueryEvent.class);
  }

  public List<RelayedEvent> of(QueryView query) {
    List<QueryEvent> events = new ArrayList<>();
    Set<String> answered = new HashSet<>();
    for (ResponseView response : query.responses()) {
      answered.add(response.agent());
      events.add(finalEvent(query, response));
    }
    for (AgentSpec agent : query.agents()) {
      if (!answered.contains(agent.name())) {
        // The query ended before this agent's answer was started at all.
        events.add(unfinished(query, agent.name(), null));
      }
    }
    for (AnswerSummary summary : query.summaries()) {
      events.add(QueryEvent.Summary.of(query.id(), query.conversationId(), summary));
    }
    if (!query.ranking().isEmpty()) {
      events.add(new QueryEvent.Ranking(query.id(), query.conversationId(), query.ranking()));
    }
    events.add(new QueryEvent.QueryCompleted(query.id(), query.conversationId(), query.status()));
    long millis =
        query.completedAt() != null
            ? query.completedAt().toEpochMilli()
            : query.createdAt().toEpochMilli();
    List<RelayedEvent> relayed = new ArrayList<>(events.size());
    for (int i = 0; i < events.size(); i++) {
      relayed.add(
          RelayedEvent.of(
              query.id(),
              query.conversationId(),
              millis + "-" + (SEQ_BASE + i),
              write(events.get(i))));
    }
    return relayed;
  }

  private static QueryEvent finalEvent(QueryView query, ResponseView response) {
    return switch (response.status()) {
      case COMPLETED ->
          new QueryEvent.ResponseCompleted(
              query.id(),
              query.conversationId(),
              response.agent(),
              null,
              response.content(),
              response.usage(),
              response.latencyMs() == null ? 0 : response.latencyMs());
      case FAILED ->
          new QueryEvent.ResponseFailed(
              query.id(), query.conversationId(), response.agent(), response.error());
      case CANCELLED ->
          new QueryEvent.ResponseCancelled(
              query.id(),
              query.conversationId(),
              response.agent(),
              response.content() == null ? "" : response.content());
      // The query ended before this agent finished (cancelled, or past its deadline).
      case PENDING, STREAMING, RETRYING -> unfinished(query, response.agent(), response.content());
    };
  }

  private static QueryEvent unfinished(QueryView query, String agent, String content) {
    return query.status() == QueryStatus.CANCELLED
        ? new QueryEvent.ResponseCancelled(
            query.id(), query.conversationId(), agent, content == null ? "" : content)
        : new QueryEvent.ResponseFailed(
            query.id(),
            query.conversationId(),
            agent,
            "the query ended before this agent answered");
  }

  private String write(QueryEvent event) {
    try {
      return writer.writeValueAsString(event);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot serialize " + event.getClass().getSimpleName(), e);
    }
  }
}
