package dev.chorus.api.conversation;

import dev.chorus.api.common.Cursor;
import dev.chorus.model.agent.AgentListJson;
import dev.chorus.model.agent.AgentSpec;
import dev.chorus.model.api.ConversationView;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Repository;

@Repository
public class ConversationStore {
  private static final String COLUMNS = "id, title, agents, archived, created_at, updated_at";

  private final JdbcClient jdbc;

  ConversationStore(JdbcClient jdbc) {
    this.jdbc = jdbc;
  }

  ConversationView insert(UUID userId, String title, List<AgentSpec> agents) {
    return jdbc.sql(
            "INSERT INTO conversations (id, user_id, title, agents) VALUES (:id, :user, :title, :agents::jsonb) RETURNING "
                + COLUMNS)
        .param("id", UUID.randomUUID())
        .param("user", userId)
        .param("title", title)
        .param("agents", AgentListJson.write(agents))
        .query(this::map)
        .single();
  }

  /** The user's conversation, or empty when it does not exist, is deleted, or is someone else's. */
  public Optional<ConversationView> find(UUID userId, UUID id) {
    return jdbc.sql(
            "SELECT "
                + COLUMNS
                + " FROM conversations WHERE id = :id AND user_id = :user AND deleted_at IS NULL")
        .param("id", id)
        .param("user", userId)
        .query(this::map)
        .optional();
  }

  /** Newest first, by last activity. */
  List<ConversationView> list(UUID userId, boolean archived, Cursor after, int limit) {
    return jdbc.sql(
            "SELECT "
                + COLUMNS
                + """
                 FROM conversations
                WHERE user_id = :user AND deleted_at IS NULL AND archived = :archived
                  AND (CAST(:afterAt AS timestamptz) IS NULL OR (updated_at, id) < (:afterAt, :afterId))
                ORDER BY updated_at DESC, id DESC
                LIMIT :limit
                """)
        .param("user", userId)
        .param("archived", archived)
        .param("afterAt", after == null ? null : Timestamp.from(after.at()))
        .param("afterId", after == null ? null : after.id())
        .param("limit", limit)
        .query(this::map)
        .list();
  }

  private ConversationView map(ResultSet rs, int row) throws SQLException {
    return new ConversationView(
        rs.getObject("id", UUID.class),
        rs.getString("title"),
        AgentListJson.read(rs.getString("agents")),
        rs.getBoolean("archived"),
        rs.getTimestamp("created_at").toInstant(),
        rs.getTimestamp("updated_at").toInstant());
  }
}
