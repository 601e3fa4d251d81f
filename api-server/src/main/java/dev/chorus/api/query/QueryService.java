package dev.chorus.api.query;

import dev.chorus.api.common.ApiException;
import dev.chorus.api.common.NotFoundException;
import dev.chorus.api.conversation.ConversationStore;
import dev.chorus.api.notify.UserEvents;
import dev.chorus.model.agent.AgentSpec;
import dev.chorus.model.api.MessageView;
import dev.chorus.model.api.QueryStatus;
import dev.chorus.model.api.QueryView;
import dev.chorus.model.notify.UserEvent;
import dev.chorus.model.workflow.ChatQueryInput;
import dev.chorus.model.workflow.DebateNames;
import dev.chorus.model.workflow.QueryPolicy;
import java.util.List;
import java.util.UUID;
import org.springframework.dao.DuplicateKeyException;
import org.springframework.http.HttpStatus;
import org.springframework.stereotype.Service;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Sending a message: the user message and its PENDING query are written in one transaction, then
 * the workflow is started. If the start fails, the sweeper starts it later; nothing is lost.
 */
@Service
public class QueryService {
  public static final int MAX_CONTENT = 32_000;
  public static final int MAX_IDEMPOTENCY_KEY = 200;

  public record Sent(MessageView message, QueryView query) {}

  private final QueryStore queries;
  private final ConversationStore conversations;
  private final AgentPolicy agents;
  private final WorkflowLauncher launcher;
  private final TransactionTemplate tx;
  private final UserEvents userEvents;

  QueryService(
      QueryStore queries,
      ConversationStore conversations,
      AgentPolicy agents,
      WorkflowLauncher launcher,
      TransactionTemplate tx,
      UserEvents userEvents) {
    this.queries = queries;
    this.conversations = conversations;
    this.agents = agents;
    this.launcher = launcher;
    this.tx = tx;
    this.userEvents = userEvents;
  }

  public Sent send(
      UUID userId,
      UUID conversationId,
      String content,
      List<AgentSpec> requested,
      String idempotencyKey) {
    return send(userId, conversationId, content, requested, null, idempotencyKey);
  }

  /**
   * Sends a message asked of {@code requested} agents (else the conversation's, else the defaults)
   * under {@code requestedPolicy} (deadline and quorum; null to wait for every agent). The policy
   * travels in the workflow input only: a query the sweeper has to start later waits for every
   * agent.
   */
  public Sent send(
      UUID userId,
      UUID conversationId,
      String content,
      List<AgentSpec> requested,
      QueryPolicy requestedPolicy,
      String idempotencyKey) {
    var conversation =
        conversations
            .find(userId, conversationId)
            .orElseThrow(() -> new NotFoundException("conversation"));
    if (content == null || content.isBlank()) {
      throw new ApiException(
          HttpStatus.BAD_REQUEST, "invalid-content", "content must not be empty");
    }
    if (content.length() > MAX_CONTENT) {
      throw new ApiException(
          HttpStatus.BAD_REQUEST,
          "invalid-content",
          "content is limited to " + MAX_CONTENT + " characters");
    }
    if (idempotencyKey != null && idempotencyKey.length() > MAX_IDEMPOTENCY_KEY) {
      throw new ApiException(
          HttpStatus.BAD_REQUEST, "invalid-idempotency-key", "Idempotency-Key is too long");
    }
    List<AgentSpec> chosen =
        requested != null && !requested.isEmpty()
            ? agents.normalize(userId, requested)
            : !conversation.agents().isEmpty()
                ? agents.normalize(userId, conversation.agents())
                : agents.defaults(userId);
    QueryPolicy policy = agents.checkPolicy(requestedPolicy, chosen);

    if (idempotencyKey != null) {
      var existing = queries.queryIdForKey(userId, idempotencyKey);
      if (existing.isPresent()) {
        return replay(userId, existing.get());
      }
    }
    UUID queryId = UUID.randomUUID();
    Sent sent;
    try {
      sent =
          tx.execute(status -> {
            MessageView message = queries.insertUserMessage(conversationId, content);
            QueryView query =
                queries.insertQuery(
                    queryId, conversationId, userId, message.id(), chosen, idempotencyKey);
            return new Sent(queries.findMessage(message.id()).orElseThrow(), query);
          });
    } catch (DuplicateKeyException raced) {
      // A concurrent request with the same Idempotency-Key won; answer with its result.
      return replay(userId, queries.queryIdForKey(userId, idempotencyKey).orElseThrow());
    }
    // Before the start, so the owner's lists see PENDING before the worker's RUNNING.
    userEvents.publish(
        userId, new UserEvent.QueryStatusChanged(queryId, conversationId, sent.query().status()));
    launcher.start(
        new ChatQueryInput(queryId, conversationId, userId, sent.message().id(), chosen, policy));
    return sent;
  }

  private Sent replay(UUID userId, UUID queryId) {
    QueryView query = queries.findQuery(userId, queryId).orElseThrow();
    return new Sent(queries.findMessage(query.messageId()).orElseThrow(), query);
  }

  public QueryView get(UUID userId, UUID queryId) {
    return queries.findQuery(userId, queryId).orElseThrow(() -> new NotFoundException("query"));
  }

  /** What a cancel request did: the query and agent it targets, and the query's status now. */
  public record CancelAccepted(UUID queryId, String agent, QueryStatus status) {}

  /**
   * Asks the query's workflow to stop one agent ({@code agent} = its name) or, when {@code agent}
   * is null, the whole query. The workflow closes the provider streams and keeps the partial text.
   * A query whose workflow never started is cancelled in PostgreSQL directly.
   */
  public CancelAccepted cancel(UUID userId, UUID queryId, String agent) {
    QueryView query = get(userId, queryId);
    String target = agent == null || agent.isBlank() ? null : agent;
    // In a debate, a round's answer ("<agent> · round 2") and the synthesis can be stopped too.
    if (target != null
        && !DebateNames.SYNTHESIS.equals(target)
        && query.agents().stream().noneMatch(a -> a.name().equals(DebateNames.agentOf(target)))) {
      throw new ApiException(
          HttpStatus.BAD_REQUEST,
          "invalid-agent",
          "this query has no agent named '" + target + "'");
    }
    if (query.status().isFinal()) {
      throw new ApiException(
          HttpStatus.CONFLICT,
          "query-finished",
          "the query is already " + query.status() + "; there is nothing to cancel");
    }
    if (!launcher.cancel(queryId, target)) {
      if (target == null && queries.cancelPending(queryId)) {
        return new CancelAccepted(queryId, null, QueryStatus.CANCELLED);
      }
      throw new ApiException(
          HttpStatus.CONFLICT,
          "query-not-started",
          "the query has not started yet; cancel the whole query or try again in a moment");
    }
    return new CancelAccepted(queryId, target, query.status());
  }
}
