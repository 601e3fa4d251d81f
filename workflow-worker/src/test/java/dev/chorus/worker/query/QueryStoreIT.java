package dev.chorus.worker.query;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.chorus.model.agent.AgentSpec;
import dev.chorus.model.agent.Usage;
import dev.chorus.model.api.QueryStatus;
import dev.chorus.model.api.QueryView;
import dev.chorus.model.workflow.AgentTask;
import dev.chorus.worker.provider.ChatMessage;
import dev.chorus.worker.provider.ChatMessage.Role;
import dev.chorus.worker.support.WorkerIntegrationTest;
import java.sql.Timestamp;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;

/** {@link QueryStore} against the real PostgreSQL of the local stack (schema from Flyway). */
@WorkerIntegrationTest
class QueryStoreIT {
  private static final AgentSpec ALPHA =
      new AgentSpec("mock", "alpha", "mock/alpha", "You are Alpha.", null, null);
  private static final AgentSpec BETA = new AgentSpec("mock", "beta", "mock/beta", null, 0.5, 64);

  @Autowired QueryStore store;
  @Autowired JdbcClient jdbc;
  @Autowired ObjectMapper json;

  private UUID userId;
  private UUID conversationId;

  /** Timestamps of fixture messages: one second apart, in insertion order. */
  private Instant clock;

  /** The newest fixture user message: the parent of the next ones, as api-server links them. */
  private UUID lastUser;

  @BeforeEach
  void createUserAndConversation() {
    userId = UUID.randomUUID();
    conversationId = UUID.randomUUID();
    clock = Instant.now().truncatedTo(ChronoUnit.SECONDS).minus(1, ChronoUnit.HOURS);
    lastUser = null;
    jdbc.sql("INSERT INTO users (id, email, password_hash) VALUES (:id, :email, 'x')")
        .param("id", userId)
        .param("email", "store-it-" + userId + "@example.test")
        .update();
    jdbc.sql("INSERT INTO conversations (id, user_id, title) VALUES (:id, :userId, 'store IT')")
        .param("id", conversationId)
        .param("userId", userId)
        .update();
  }

  @AfterEach
  void deleteFixtures() {
    // Cascades to conversations, messages, queries and responses.
    jdbc.sql("DELETE FROM users WHERE id = :id").param("id", userId).update();
  }

  @Test
  void markRunningMovesAPendingQueryOnlyOnce() {
    AgentTask task = newQuery("What is a workflow?", ALPHA, BETA);
    assertThat(status(task.queryId())).isEqualTo("PENDING");

    assertThat(store.markRunning(task.queryId())).isTrue();
    Timestamp startedAt = queryColumn(task.queryId(), "started_at", Timestamp.class);
    assertThat(store.markRunning(task.queryId())).isFalse();

    assertThat(status(task.queryId())).isEqualTo("RUNNING");
    assertThat(startedAt).isNotNull();
    assertThat(queryColumn(task.queryId(), "started_at", Timestamp.class)).isEqualTo(startedAt);
    QueryView view = store.findQuery(task.queryId()).orElseThrow();
    assertThat(view.status()).isEqualTo(QueryStatus.RUNNING);
    assertThat(view.agents()).containsExactly(ALPHA, BETA);
    assertThat(view.workflowId()).isEqualTo("query-" + task.queryId());
    assertThat(store.markRunning(UUID.randomUUID())).isFalse();
  }

  @Test
  void startAndCompleteResponseAreIdempotent() {
    AgentTask task = newQuery("Say hello", ALPHA);
    UUID expectedId = QueryStore.assistantMessageId(task.queryId(), "mock/alpha");
    String content = "Hello, wörld — café 🎵 若水";

    store.startResponse(task, 1);
    assertThat(response(task).get("status")).isEqualTo("STREAMING");
    store.startResponse(task, 2);
    UUID first = store.completeResponse(task, 2, content, new Usage(11, 22), "stop", 345);
    Timestamp completedAt = (Timestamp) response(task).get("completed_at");
    // The activity ran again after it had persisted (e.g. its completion was lost).
    UUID second = store.completeResponse(task, 2, content, new Usage(11, 22), "stop", 345);
    // A late attempt starting after completion must not reopen the response.
    store.startResponse(task, 3);

    assertThat(first).isEqualTo(expectedId).isEqualTo(second);
    assertThat(expectedId)
        .isEqualTo(QueryStore.assistantMessageId(task.queryId(), "mock/alpha"))
        .isNotEqualTo(QueryStore.assistantMessageId(task.queryId(), "mock/beta"));
    List<Map<String, Object>> messages =
        jdbc.sql(
                """
                SELECT id, role, content, agent, conversation_id FROM messages
                WHERE query_id = :queryId AND role = 'assistant'
                """)
            .param("queryId", task.queryId())
            .query()
            .listOfRows();
    assertThat(messages).hasSize(1);
    assertThat(messages.getFirst())
        .containsEntry("id", expectedId)
        .containsEntry("content", content)
        .containsEntry("agent", "mock/alpha")
        .containsEntry("conversation_id", conversationId);

    assertThat(
            jdbc.sql("SELECT count(*) FROM responses WHERE query_id = :q")
                .param("q", task.queryId())
                .query(Long.class)
                .single())
        .isEqualTo(1L);
    Map<String, Object> response = response(task);
    assertThat(response)
        .containsEntry("status", "COMPLETED")
        .containsEntry("content", content)
        .containsEntry("message_id", expectedId)
        .containsEntry("attempt", 2)
        .containsEntry("provider", "mock")
        .containsEntry("model", "alpha")
        .containsEntry("input_tokens", 11L)
        .containsEntry("output_tokens", 22L)
        .containsEntry("latency_ms", 345L)
        .containsEntry("error", null);
    assertThat(response.get("completed_at")).isNotNull().isEqualTo(completedAt);
  }

  @Test
  void failResponseDoesNotOverwriteACompletedResponse() {
    AgentTask alpha = newQuery("Say hello", ALPHA, BETA);
    AgentTask beta = betaOf(alpha);

    store.startResponse(alpha, 1);
    store.completeResponse(alpha, 1, "hello", new Usage(1, 1), "stop", 5);
    store.failResponse(alpha, "Timeout: too late");
    store.startResponse(beta, 1);
    store.failResponse(beta, "UnknownModel: no such model");

    assertThat(response(alpha))
        .containsEntry("status", "COMPLETED")
        .containsEntry("content", "hello")
        .containsEntry("error", null);
    assertThat(response(beta))
        .containsEntry("status", "FAILED")
        .containsEntry("error", "UnknownModel: no such model");
    assertThat(response(beta).get("completed_at")).isNotNull();
  }

  @Test
  void failResponseCreatesTheRowWhenTheAgentNeverStarted() {
    AgentTask task = newQuery("Say hello", BETA);

    store.failResponse(task, "UnknownProvider: provider 'mock' is not configured");

    assertThat(response(task))
        .containsEntry("status", "FAILED")
        .containsEntry("provider", "mock")
        .containsEntry("model", "beta")
        .containsEntry("error", "UnknownProvider: provider 'mock' is not configured");
  }

  @Test
  void loadContextHasTheSystemPromptThenUserTurnsAndOnlyThisAgentsAnswersInOrder() {
    userMessage("What is Temporal?");
    UUID earlierQuery = UUID.randomUUID();
    assistantMessage(earlierQuery, "mock/alpha", "Alpha: a workflow engine.");
    assistantMessage(earlierQuery, "mock/beta", "Beta: something else.");
    AgentTask alpha = newQuery("And Redis Streams?", ALPHA);
    AgentTask beta = betaOf(alpha);
    // Written after the message being answered: never part of its context.
    userMessage("A later question");
    assistantMessage(alpha.queryId(), "mock/alpha", "Alpha's answer to this very query");

    assertThat(store.loadContext(alpha, 20))
        .containsExactly(
            new ChatMessage(Role.SYSTEM, "You are Alpha."),
            new ChatMessage(Role.USER, "What is Temporal?"),
            new ChatMessage(Role.ASSISTANT, "Alpha: a workflow engine."),
            new ChatMessage(Role.USER, "And Redis Streams?"));
    assertThat(store.loadContext(beta, 20))
        .containsExactly(
            new ChatMessage(Role.USER, "What is Temporal?"),
            new ChatMessage(Role.ASSISTANT, "Beta: something else."),
            new ChatMessage(Role.USER, "And Redis Streams?"));
    // Newest turns first when cut; the system prompt is always there.
    assertThat(store.loadContext(alpha, 2))
        .containsExactly(
            new ChatMessage(Role.SYSTEM, "You are Alpha."),
            new ChatMessage(Role.ASSISTANT, "Alpha: a workflow engine."),
            new ChatMessage(Role.USER, "And Redis Streams?"));
  }

  @Test
  void aDebateStepReadsTheCompletedAnswersByNameAndTheContextOfItsSpeaker() {
    userMessage("What is Temporal?");
    UUID earlierQuery = UUID.randomUUID();
    assistantMessage(earlierQuery, "mock/alpha", "Alpha: a workflow engine.");
    AgentTask alpha = newQuery("And Redis Streams?", ALPHA, BETA);
    AgentTask beta = betaOf(alpha);
    store.completeResponse(alpha, 1, "Alpha's first answer", Usage.NONE, "stop", 10);
    store.startResponse(beta, 1);
    store.checkpoint(beta, 1, "Beta, unfinished");
    AgentTask round2 =
        new AgentTask(
            alpha.queryId(),
            conversationId,
            alpha.messageId(),
            ALPHA.withName("mock/alpha · round 2"),
            userId,
            null,
            new AgentTask.Debate(
                2, "mock/alpha", "mock/alpha", List.of("mock/alpha", "mock/beta"), false));

    // Only completed answers, by response name; an unfinished one is not an answer.
    assertThat(store.completedContents(alpha.queryId(), List.of("mock/alpha", "mock/beta")))
        .isEqualTo(Map.of("mock/alpha", "Alpha's first answer"));
    assertThat(store.completedContents(alpha.queryId(), List.of())).isEmpty();
    // The round's context is the agent's own (its round name has no earlier turns).
    assertThat(store.loadContext(round2, "mock/alpha", 20))
        .startsWith(
            new ChatMessage(Role.SYSTEM, "You are Alpha."),
            new ChatMessage(Role.USER, "What is Temporal?"),
            new ChatMessage(Role.ASSISTANT, "Alpha: a workflow engine."));
    assertThat(store.loadContext(round2, 20))
        .containsExactly(
            new ChatMessage(Role.SYSTEM, "You are Alpha."),
            new ChatMessage(Role.USER, "What is Temporal?"),
            new ChatMessage(Role.USER, "And Redis Streams?"));
  }

  @Test
  void finishQueryDoesNotChangeAnAlreadyFinalQuery() {
    AgentTask task = newQuery("Say hello", ALPHA);
    store.markRunning(task.queryId());

    store.finishQuery(task.queryId(), QueryStatus.PARTIAL);
    Timestamp completedAt = queryColumn(task.queryId(), "completed_at", Timestamp.class);
    store.finishQuery(task.queryId(), QueryStatus.FAILED);
    store.finishQuery(task.queryId(), QueryStatus.COMPLETED);

    assertThat(status(task.queryId())).isEqualTo("PARTIAL");
    assertThat(completedAt).isNotNull();
    assertThat(queryColumn(task.queryId(), "completed_at", Timestamp.class)).isEqualTo(completedAt);
    // markRunning cannot reopen it either.
    assertThat(store.markRunning(task.queryId())).isFalse();
    assertThat(store.findQuery(task.queryId()).orElseThrow().status())
        .isEqualTo(QueryStatus.PARTIAL);
  }

  @Test
  void finishQueryEndsAPendingQuery() {
    AgentTask task = newQuery("Say hello", ALPHA);

    store.finishQuery(task.queryId(), QueryStatus.CANCELLED);

    assertThat(status(task.queryId())).isEqualTo("CANCELLED");
  }

  @Test
  void checkpointsOfSeveralAttemptsAreSavedInOneBatchEachOnlyByItsCurrentAttempt() {
    AgentTask alpha = newQuery("Tell two stories", ALPHA, BETA);
    AgentTask beta = betaOf(alpha);
    store.startResponse(alpha, 1);
    store.startResponse(beta, 1);
    store.startResponse(beta, 2);

    store.checkpointAll(
        List.of(
            new QueryStore.Checkpoint(alpha, 1, "Alpha so far"),
            new QueryStore.Checkpoint(beta, 1, "a superseded attempt"),
            new QueryStore.Checkpoint(beta, 2, "Beta so far")));

    assertThat(store.loadCheckpoint(alpha)).contains("Alpha so far");
    assertThat(store.loadCheckpoint(beta)).contains("Beta so far");
  }

  @Test
  void aCheckpointIsWrittenOnlyByTheAttemptThatOwnsTheResponseAndReadBackForTheNext() {
    AgentTask task = newQuery("Tell a story", ALPHA);
    store.startResponse(task, 1);
    store.checkpoint(task, 1, "Once upon");
    assertThat(store.loadCheckpoint(task)).contains("Once upon");

    store.startResponse(task, 2);
    store.checkpoint(task, 1, "a late write of the dead first attempt");
    assertThat(store.loadCheckpoint(task)).contains("Once upon");
    store.checkpoint(task, 2, "Once upon a time");
    assertThat(store.loadCheckpoint(task)).contains("Once upon a time");

    store.completeResponse(task, 2, "Once upon a time.", new Usage(1, 2), "stop", 10);
    assertThat(store.loadCheckpoint(task)).as("a finished answer is no checkpoint").isEmpty();
    store.checkpoint(task, 2, "overwrite");
    assertThat(response(task).get("content")).isEqualTo("Once upon a time.");
  }

  @Test
  void aSupersededAttemptThatFinishesLateChangesNeitherTheAnswerNorItsMessage() {
    // Found by the fault suite: attempt 1 missed its heartbeat timeout while it still streamed
    // (a stalled JVM, the Temporal server away), attempt 2 took over and completed, and then the
    // stale attempt 1 completed too and overwrote the answer with its own text.
    AgentTask task = newQuery("Tell a story", ALPHA);
    store.startResponse(task, 1);
    store.startResponse(task, 2);
    store.completeResponse(task, 2, "The answer of attempt 2.", new Usage(1, 2), "stop", 10);

    store.completeResponse(task, 1, "The stale text of attempt 1.", new Usage(1, 9), "stop", 99);

    assertThat(response(task))
        .containsEntry("status", "COMPLETED")
        .containsEntry("attempt", 2)
        .containsEntry("content", "The answer of attempt 2.")
        .containsEntry("output_tokens", 2L);
    assertThat(
            jdbc.sql("SELECT content FROM messages WHERE query_id = :q AND role = 'assistant'")
                .param("q", task.queryId())
                .query(String.class)
                .list())
        .containsExactly("The answer of attempt 2.");
  }

  @Test
  void aStaleAttemptCompletingWhileTheNextStillStreamsDoesNotEndTheResponse() {
    AgentTask task = newQuery("Tell a story", ALPHA);
    store.startResponse(task, 1);
    store.checkpoint(task, 1, "Once");
    store.startResponse(task, 2);

    store.completeResponse(task, 1, "Once, stale.", new Usage(1, 2), "stop", 10);

    assertThat(response(task)).containsEntry("status", "STREAMING").containsEntry("attempt", 2);
    assertThat(store.loadCheckpoint(task)).contains("Once");
  }

  @Test
  void aCancelledResponseKeepsItsPartialTextAsTheAnswerOnce() {
    AgentTask task = newQuery("Tell a story", ALPHA);
    store.startResponse(task, 1);

    store.cancelResponse(task, 1, "Once upon", 42);
    store.cancelResponse(task, 1, "Once upon a different text", 43);

    var row = response(task);
    assertThat(row).containsEntry("status", "CANCELLED").containsEntry("content", "Once upon");
    UUID messageId = QueryStore.assistantMessageId(task.queryId(), "mock/alpha");
    assertThat(row).containsEntry("message_id", messageId);
    assertThat(
            jdbc.sql("SELECT content FROM messages WHERE id = :id")
                .param("id", messageId)
                .query(String.class)
                .single())
        .isEqualTo("Once upon");
    assertThat(store.markCancelled(task)).as("already final: no second announcement").isEmpty();
  }

  @Test
  void markCancelledEndsAnUnstartedOrStreamingResponseButNeverACompletedOne() {
    AgentTask alpha = newQuery("Say hello", ALPHA, BETA);
    AgentTask beta = betaOf(alpha);
    store.startResponse(alpha, 1);
    store.checkpoint(alpha, 1, "Hel");

    assertThat(store.markCancelled(alpha)).contains("Hel");
    assertThat(store.markCancelled(beta)).contains("");
    assertThat(response(beta)).containsEntry("status", "CANCELLED");

    AgentTask done = newQuery("Say bye", ALPHA);
    store.completeResponse(done, 1, "Bye.", new Usage(1, 1), "stop", 5);
    assertThat(store.markCancelled(done)).isEmpty();
    assertThat(response(done)).containsEntry("status", "COMPLETED");
  }

  @Test
  void loadContextFollowsTheBranchOfTheMessageAndTheActiveAnswerOfEachTurn() {
    UUID first = userMessage("What is Temporal?");
    UUID oldQuery = UUID.randomUUID();
    assistantMessage(oldQuery, "mock/alpha", "Alpha: first try.", first);
    AgentTask regenerated = queryFor(first, ALPHA);
    assistantMessage(regenerated.queryId(), "mock/alpha", "Alpha: regenerated.", first);
    UUID original = userMessage("And Redis?", first);
    assistantMessage(UUID.randomUUID(), "mock/alpha", "Alpha: about Redis.", original);
    // The user edits "And Redis?": a sibling with the same parent, and a query that answers it.
    AgentTask edited = queryFor(userMessage("And PostgreSQL?", first), ALPHA);

    assertThat(store.loadContext(edited, 20))
        .containsExactly(
            new ChatMessage(Role.SYSTEM, "You are Alpha."),
            new ChatMessage(Role.USER, "What is Temporal?"),
            new ChatMessage(Role.ASSISTANT, "Alpha: regenerated."),
            new ChatMessage(Role.USER, "And PostgreSQL?"));
    // message_created carries the branch link, so live clients can place the edit.
    assertThat(store.findMessage(edited.messageId()).orElseThrow().parentId()).isEqualTo(first);
    // Regenerating the first answer sees the question only, not the answer it replaces.
    assertThat(store.loadContext(regenerated, 20))
        .containsExactly(
            new ChatMessage(Role.SYSTEM, "You are Alpha."),
            new ChatMessage(Role.USER, "What is Temporal?"));
  }

  @Test
  void finishQueryTitlesAnUntitledConversationOnceAndNeverOverwritesATitle() {
    jdbc.sql("UPDATE conversations SET title = NULL WHERE id = :id")
        .param("id", conversationId)
        .update();
    AgentTask first =
        newQuery("  # How do   durable workflows survive a crash?\nDetails follow.", ALPHA);
    store.finishQuery(first.queryId(), QueryStatus.COMPLETED);
    assertThat(conversationColumn("title")).isEqualTo("How do durable workflows survive a crash?");
    assertThat(conversationColumn("title_source")).isEqualTo("generated");

    AgentTask second = newQuery("Something else entirely", ALPHA);
    store.finishQuery(second.queryId(), QueryStatus.COMPLETED);
    assertThat(conversationColumn("title")).isEqualTo("How do durable workflows survive a crash?");

    jdbc.sql("UPDATE conversations SET title = 'Mine', title_source = 'user' WHERE id = :id")
        .param("id", conversationId)
        .update();
    store.generateTitle(second.queryId());
    assertThat(conversationColumn("title")).isEqualTo("Mine");
  }

  private String conversationColumn(String column) {
    return jdbc.sql("SELECT " + column + " FROM conversations WHERE id = :id")
        .param("id", conversationId)
        .query(String.class)
        .single();
  }

  // --- fixtures -------------------------------------------------------------------------------

  /** The second agent's task of the same query. */
  private AgentTask betaOf(AgentTask alpha) {
    return new AgentTask(alpha.queryId(), conversationId, alpha.messageId(), BETA, userId);
  }

  /**
   * A user message and its PENDING query, as api-server writes them; the task of its first agent.
   */
  private AgentTask newQuery(String text, AgentSpec... agents) {
    return queryFor(userMessage(text), agents);
  }

  /** A PENDING query for an existing user message (a first query, or a regenerated one). */
  private AgentTask queryFor(UUID messageId, AgentSpec... agents) {
    UUID queryId = UUID.randomUUID();
    jdbc.sql(
            """
            INSERT INTO queries (id, conversation_id, user_id, message_id, status, agents, workflow_id)
            VALUES (:id, :conversationId, :userId, :messageId, 'PENDING', CAST(:agents AS jsonb),
                    :workflowId)
            """)
        .param("id", queryId)
        .param("conversationId", conversationId)
        .param("userId", userId)
        .param("messageId", messageId)
        .param("agents", toJson(List.of(agents)))
        .param("workflowId", "query-" + queryId)
        .update();
    jdbc.sql("UPDATE messages SET query_id = :q WHERE id = :m")
        .param("q", queryId)
        .param("m", messageId)
        .update();
    return new AgentTask(queryId, conversationId, messageId, agents[0], userId);
  }

  private UUID userMessage(String text) {
    return userMessage(text, lastUser);
  }

  /** A user message following {@code parentId} on its branch (an edit when it has siblings). */
  private UUID userMessage(String text, UUID parentId) {
    UUID id = UUID.randomUUID();
    jdbc.sql(
            """
            INSERT INTO messages (id, conversation_id, role, content, created_at, parent_id)
            VALUES (:id, :conversationId, 'user', :content, :createdAt, :parentId)
            """)
        .param("id", id)
        .param("conversationId", conversationId)
        .param("content", text)
        .param("createdAt", tick())
        .param("parentId", parentId)
        .update();
    lastUser = id;
    return id;
  }

  private void assistantMessage(UUID queryId, String agent, String text) {
    assistantMessage(queryId, agent, text, lastUser);
  }

  private void assistantMessage(UUID queryId, String agent, String text, UUID parentId) {
    jdbc.sql(
            """
            INSERT INTO messages (id, conversation_id, role, content, query_id, agent, created_at,
                                  parent_id)
            VALUES (:id, :conversationId, 'assistant', :content, :queryId, :agent, :createdAt,
                    :parentId)
            """)
        .param("id", UUID.randomUUID())
        .param("conversationId", conversationId)
        .param("content", text)
        .param("queryId", queryId)
        .param("agent", agent)
        .param("createdAt", tick())
        .param("parentId", parentId)
        .update();
  }

  private OffsetDateTime tick() {
    clock = clock.plusSeconds(1);
    return OffsetDateTime.ofInstant(clock, ZoneOffset.UTC);
  }

  private String toJson(Object value) {
    try {
      return json.writeValueAsString(value);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  private String status(UUID queryId) {
    return queryColumn(queryId, "status", String.class);
  }

  private <T> T queryColumn(UUID queryId, String column, Class<T> type) {
    return jdbc.sql("SELECT " + column + " FROM queries WHERE id = :id")
        .param("id", queryId)
        .query(type)
        .single();
  }

  private Map<String, Object> response(AgentTask task) {
    return jdbc.sql("SELECT * FROM responses WHERE query_id = :q AND agent = :a")
        .param("q", task.queryId())
        .param("a", task.agent().name())
        .query()
        .singleRow();
  }
}
