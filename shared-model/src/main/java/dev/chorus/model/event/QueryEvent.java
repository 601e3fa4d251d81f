package dev.chorus.model.event;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import dev.chorus.model.agent.Usage;
import dev.chorus.model.api.AnswerSummary;
import dev.chorus.model.api.MessageView;
import dev.chorus.model.api.QueryStatus;
import dev.chorus.model.api.QueryView;
import dev.chorus.model.api.RankEntry;
import java.time.Instant;
import java.util.List;
import java.util.UUID;

/**
 * An event of one query, as written to the query's Redis Stream and relayed to clients. The stream
 * entry id becomes the event's {@code id} on the wire; it is not part of the stored record.
 */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "type")
@JsonSubTypes({
  @JsonSubTypes.Type(value = QueryEvent.MessageCreated.class, name = "message_created"),
  @JsonSubTypes.Type(value = QueryEvent.QueryStarted.class, name = "query_started"),
  @JsonSubTypes.Type(value = QueryEvent.ResponseStarted.class, name = "response_started"),
  @JsonSubTypes.Type(value = QueryEvent.Delta.class, name = "delta"),
  @JsonSubTypes.Type(value = QueryEvent.ResponseRetrying.class, name = "response_retrying"),
  @JsonSubTypes.Type(value = QueryEvent.ResponseCompleted.class, name = "response_completed"),
  @JsonSubTypes.Type(value = QueryEvent.ResponseFailed.class, name = "response_failed"),
  @JsonSubTypes.Type(value = QueryEvent.ResponseCancelled.class, name = "response_cancelled"),
  @JsonSubTypes.Type(value = QueryEvent.Summary.class, name = "summary"),
  @JsonSubTypes.Type(value = QueryEvent.Ranking.class, name = "ranking"),
  @JsonSubTypes.Type(value = QueryEvent.QueryCompleted.class, name = "query_completed"),
})
public sealed interface QueryEvent {
  UUID queryId();

  UUID conversationId();

  record MessageCreated(UUID queryId, UUID conversationId, MessageView message)
      implements QueryEvent {}

  record QueryStarted(UUID queryId, UUID conversationId, QueryView query) implements QueryEvent {}

  record ResponseStarted(
      UUID queryId, UUID conversationId, String agent, int attempt, String provider, String model)
      implements QueryEvent {}

  /**
   * A piece of an agent's answer.
   *
   * @param emittedAtMicros wall-clock time (epoch microseconds) at which the worker wrote the delta
   *     to the stream, so a client on the same clock can measure relay latency (the stream id only
   *     has millisecond resolution); null in events written before it existed
   */
  record Delta(
      UUID queryId,
      UUID conversationId,
      String agent,
      int attempt,
      long seq,
      String text,
      Long emittedAtMicros)
      implements QueryEvent {

    public Delta(
        UUID queryId, UUID conversationId, String agent, int attempt, long seq, String text) {
      this(queryId, conversationId, agent, attempt, seq, text, nowMicros());
    }

    private static long nowMicros() {
      Instant now = Instant.now();
      return now.getEpochSecond() * 1_000_000L + now.getNano() / 1_000;
    }
  }

  /** A new attempt begins; the client keeps the first {@code resumeFrom} chars it has shown. */
  record ResponseRetrying(
      UUID queryId, UUID conversationId, String agent, int attempt, String reason, int resumeFrom)
      implements QueryEvent {}

  record ResponseCompleted(
      UUID queryId,
      UUID conversationId,
      String agent,
      UUID messageId,
      String content,
      Usage usage,
      long latencyMs)
      implements QueryEvent {}

  /**
   * The agent was cancelled: its stream stopped and {@code content} — what the client has shown for
   * it — is kept as the (partial) answer.
   */
  record ResponseCancelled(UUID queryId, UUID conversationId, String agent, String content)
      implements QueryEvent {}

  record ResponseFailed(UUID queryId, UUID conversationId, String agent, String error)
      implements QueryEvent {}

  /** The digest of one completed answer. */
  record Summary(
      UUID queryId,
      UUID conversationId,
      String agent,
      String summary,
      String reasoning,
      List<String> keyPoints)
      implements QueryEvent {

    public static Summary of(UUID queryId, UUID conversationId, AnswerSummary s) {
      return new Summary(
          queryId, conversationId, s.agent(), s.summary(), s.reasoning(), s.keyPoints());
    }
  }

  /** The completed answers, best first. */
  record Ranking(UUID queryId, UUID conversationId, List<RankEntry> ranking)
      implements QueryEvent {}

  record QueryCompleted(UUID queryId, UUID conversationId, QueryStatus status)
      implements QueryEvent {}
}
