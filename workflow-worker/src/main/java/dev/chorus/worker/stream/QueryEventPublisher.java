package dev.chorus.worker.stream;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.chorus.model.event.QueryEvent;
import dev.chorus.model.stream.RedisKeys;
import java.util.Map;
import java.util.UUID;
import org.springframework.data.redis.connection.RedisStreamCommands.XAddOptions;
import org.springframework.data.redis.connection.stream.RecordId;
import org.springframework.data.redis.connection.stream.StreamRecords;
import org.springframework.data.redis.core.StringRedisTemplate;
import org.springframework.stereotype.Component;

/**
 * The only writer of query event streams. Each event is one stream entry holding its JSON; the
 * entry id is the event id clients see and resume from.
 */
@Component
public class QueryEventPublisher {
  private final StringRedisTemplate redis;
  private final ObjectMapper json;
  private final RedisKeys keys;
  private final StreamProperties properties;

  public QueryEventPublisher(
      StringRedisTemplate redis, ObjectMapper json, StreamProperties properties) {
    this.redis = redis;
    this.json = json;
    this.properties = properties;
    this.keys = new RedisKeys(properties.keyPrefix());
  }

  public RecordId publish(QueryEvent event) {
    String payload;
    try {
      payload = json.writerFor(QueryEvent.class).writeValueAsString(event);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot serialize " + event.getClass().getSimpleName(), e);
    }
    String key = keys.queryStream(event.queryId());
    RecordId id = add(key, Map.of(RedisKeys.EVENT_FIELD, payload));
    if (event instanceof QueryEvent.MessageCreated) {
      // The first event of a query: a stream whose query never finishes still goes away.
      redis.expire(key, properties.maxLifetime());
    }
    return id;
  }

  /** Tells every api-server relay that a query's stream exists, so it starts reading it. */
  public void announce(UUID queryId, UUID conversationId) {
    add(
        keys.queryAnnouncements(),
        Map.of("queryId", queryId.toString(), "conversationId", conversationId.toString()));
  }

  /** Lets a finished query's stream expire; PostgreSQL stays the record. */
  public void expireLater(UUID queryId) {
    redis.expire(keys.queryStream(queryId), properties.retainAfterCompletion());
  }

  private RecordId add(String key, Map<String, String> fields) {
    return redis
        .opsForStream()
        .add(
            StreamRecords.newRecord().in(key).ofMap(fields),
            XAddOptions.maxlen(properties.maxLength()).approximateTrimming(true));
  }
}
