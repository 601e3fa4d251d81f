package dev.chorus.worker.support;

import java.util.UUID;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * A user, a conversation, the user's message and a query answering it, as the api-server writes
 * them; integration tests of activities start from these rows. Deleting the user removes them all.
 */
public record QueryRows(UUID userId, UUID conversationId, UUID messageId, UUID queryId) {
  public static QueryRows insert(JdbcClient jdbc, String label, String prompt, String status) {
    var rows =
        new QueryRows(UUID.randomUUID(), UUID.randomUUID(), UUID.randomUUID(), UUID.randomUUID());
    jdbc.sql("INSERT INTO users (id, email, password_hash) VALUES (:id, :email, 'x')")
        .param("id", rows.userId)
        .param("email", label + "-" + rows.userId + "@example.test")
        .update();
    jdbc.sql("INSERT INTO conversations (id, user_id, title) VALUES (:id, :userId, :title)")
        .param("id", rows.conversationId)
        .param("userId", rows.userId)
        .param("title", label)
        .update();
    jdbc.sql(
            """
            INSERT INTO messages (id, conversation_id, role, content, query_id)
            VALUES (:id, :conversationId, 'user', :content, :queryId)
            """)
        .param("id", rows.messageId)
        .param("conversationId", rows.conversationId)
        .param("content", prompt)
        .param("queryId", rows.queryId)
        .update();
    jdbc.sql(
            """
            INSERT INTO queries (id, conversation_id, user_id, message_id, status, agents, workflow_id)
            VALUES (:id, :conversationId, :userId, :messageId, :status, '[]'::jsonb, :workflowId)
            """)
        .param("id", rows.queryId)
        .param("conversationId", rows.conversationId)
        .param("userId", rows.userId)
        .param("messageId", rows.messageId)
        .param("status", status)
        .param("workflowId", "query-" + rows.queryId)
        .update();
    return rows;
  }

  public void delete(JdbcClient jdbc) {
    jdbc.sql("DELETE FROM users WHERE id = :id").param("id", userId).update();
  }
}
