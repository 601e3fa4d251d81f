package dev.chorus.api.preset;

import dev.chorus.api.common.Cursor;
import dev.chorus.model.agent.AgentListJson;
import dev.chorus.model.agent.AgentSpec;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Repository;

@Repository
public class PresetStore {
  private static final String COLUMNS =
      "id, user_id, name, description, agents, system_prompt, temperature, visibility, created_at,"
          + " updated_at";

  /** Which presets a list shows. */
  enum Scope {
    MINE,
    PUBLIC,
    ALL
  }

  /** The fields of a preset as stored. */
  record Fields(
      String name,
      String description,
      List<AgentSpec> agents,
      String systemPrompt,
      Double temperature,
      String visibility) {}

  /** A preset and its owner. */
  record Row(UUID ownerId, PresetView view) {}

  private final JdbcClient jdbc;

  PresetStore(JdbcClient jdbc) {
    this.jdbc = jdbc;
  }

  PresetView insert(UUID userId, Fields f) {
    return jdbc.sql(
            "INSERT INTO presets (id, user_id, name, description, agents, system_prompt,"
                + " temperature, visibility) VALUES (:id, :user, :name, :description,"
                + " :agents::jsonb, :system, :temperature, :visibility) RETURNING "
                + COLUMNS)
        .params(params(UUID.randomUUID(), userId, f))
        .query((rs, i) -> map(rs, userId))
        .single();
  }

  /** A preset the user may see and use: their own, or a public one. */
  public Optional<PresetView> findVisible(UUID userId, UUID id) {
    return findRow(userId, id).map(Row::view);
  }

  Optional<Row> findRow(UUID userId, UUID id) {
    return jdbc.sql(
            "SELECT "
                + COLUMNS
                + " FROM presets WHERE id = :id AND (user_id = :user OR visibility = 'public')")
        .param("id", id)
        .param("user", userId)
        .query((rs, i) -> new Row(rs.getObject("user_id", UUID.class), map(rs, userId)))
        .optional();
  }

  /** Newest first. */
  List<PresetView> list(UUID userId, Scope scope, Cursor after, int limit) {
    return jdbc.sql(
            "SELECT "
                + COLUMNS
                + """
                 FROM presets
                WHERE ((:mine AND user_id = :user) OR (:public AND visibility = 'public'))
                  AND (CAST(:afterAt AS timestamptz) IS NULL OR (created_at, id) < (:afterAt, :afterId))
                ORDER BY created_at DESC, id DESC
                LIMIT :limit
                """)
        .param("user", userId)
        .param("mine", scope != Scope.PUBLIC)
        .param("public", scope != Scope.MINE)
        .param("afterAt", after == null ? null : Timestamp.from(after.at()))
        .param("afterId", after == null ? null : after.id())
        .param("limit", limit)
        .query((rs, i) -> map(rs, userId))
        .list();
  }

  /** Replaces the fields of the owner's preset; empty when it is not theirs. */
  Optional<PresetView> update(UUID userId, UUID id, Fields f) {
    return jdbc.sql(
            """
            UPDATE presets SET name = :name, description = :description, agents = :agents::jsonb,
                   system_prompt = :system, temperature = :temperature, visibility = :visibility,
                   updated_at = now()
             WHERE id = :id AND user_id = :user
            RETURNING \
            """
                + COLUMNS)
        .params(params(id, userId, f))
        .query((rs, i) -> map(rs, userId))
        .optional();
  }

  boolean delete(UUID userId, UUID id) {
    return jdbc.sql("DELETE FROM presets WHERE id = :id AND user_id = :user")
            .param("id", id)
            .param("user", userId)
            .update()
        > 0;
  }

  /** The named parameters of an insert or update (a map: temperature and texts may be null). */
  private static Map<String, Object> params(UUID id, UUID userId, Fields f) {
    Map<String, Object> params = new HashMap<>();
    params.put("id", id);
    params.put("user", userId);
    params.put("name", f.name());
    params.put("description", f.description());
    params.put("agents", AgentListJson.write(f.agents()));
    params.put("system", f.systemPrompt());
    params.put("temperature", f.temperature());
    params.put("visibility", f.visibility());
    return params;
  }

  private static PresetView map(ResultSet rs, UUID callerId) throws SQLException {
    return new PresetView(
        rs.getObject("id", UUID.class),
        rs.getString("name"),
        rs.getString("description"),
        AgentListJson.read(rs.getString("agents")),
        rs.getString("system_prompt"),
        rs.getObject("temperature", Double.class),
        rs.getString("visibility"),
        callerId.equals(rs.getObject("user_id", UUID.class)),
        rs.getTimestamp("created_at").toInstant(),
        rs.getTimestamp("updated_at").toInstant());
  }
}
