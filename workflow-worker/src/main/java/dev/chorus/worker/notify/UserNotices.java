package dev.chorus.worker.notify;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.chorus.model.api.QueryStatus;
import dev.chorus.model.notify.UserEvent;
import dev.chorus.model.notify.UserNotice;
import dev.chorus.model.stream.RedisKeys;
import dev.chorus.worker.stream.StreamProperties;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.data.redis.core.StringRedisTemplate;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Component;

/**
 * Tells the owner's live sessions (through their Redis channel, relayed by every api-server) that a
 * query changed status, so conversation lists update without polling. Best effort: a notice is
 * never worth failing or retrying the activity that changed the status, and clients reload the list
 * over REST after a reconnect.
 */
@Component
public class UserNotices {
  private static final Logger log = LoggerFactory.getLogger(UserNotices.class);

  private final StringRedisTemplate redis;
  private final JdbcClient jdbc;
  private final ObjectMapper json;
  private final RedisKeys keys;

  public UserNotices(
      StringRedisTemplate redis, JdbcClient jdbc, ObjectMapper json, StreamProperties properties) {
    this.redis = redis;
    this.jdbc = jdbc;
    this.json = json;
    this.keys = new RedisKeys(properties.keyPrefix());
  }

  public void queryStatus(UUID queryId, UUID conversationId, QueryStatus status) {
    try {
      var owner =
          jdbc.sql("SELECT user_id FROM queries WHERE id = :id")
              .param("id", queryId)
              .query(UUID.class)
              .optional();
      if (owner.isEmpty()) {
        return;
      }
      var notice =
          new UserNotice(null, new UserEvent.QueryStatusChanged(queryId, conversationId, status));
      redis.convertAndSend(keys.userChannel(owner.get()), json.writeValueAsString(notice));
    } catch (JsonProcessingException | RuntimeException e) {
      log.warn("could not publish status {} of query {}: {}", status, queryId, e.toString());
    }
  }
}
