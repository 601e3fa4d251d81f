package dev.chorus.api.query;

import dev.chorus.api.common.ApiException;
import dev.chorus.api.common.NotFoundException;
import dev.chorus.api.common.Texts;
import dev.chorus.api.conversation.ConversationStore;
import dev.chorus.api.notify.UserEvents;
import dev.chorus.api.ratelimit.QueryLimits;
import dev.chorus.model.agent.AgentSpec;
import dev.chorus.model.api.ConversationView;
import dev.chorus.model.api.MessageRole;
import dev.chorus.model.api.MessageView;
import dev.chorus.model.api.QueryStatus;
import dev.chorus.model.api.QueryView;
import dev.chorus.model.notify.UserEvent;
import dev.chorus.model.workflow.ChatQueryInput;
import dev.chorus.model.workflow.DebateNames;
import dev.chorus.model.workflow.QueryPolicy;
import java.util.List;
import java.util.UUID;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
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

  private static final Logger log = LoggerFactory.getLogger(QueryService.class);

  private final QueryStore queries;
  private final ConversationStore conversations;
  private final AgentPolicy agents;
  private final WorkflowLauncher launcher;
  private final TransactionTemplate tx;
  private final QueryLimits limits;
  private final UserEvents userEvents;

  QueryService(
      QueryStore queries,
      ConversationStore conversations,
      AgentPolicy agents,
      WorkflowLauncher launcher,
      TransactionTemplate tx,
      QueryLimits limits,
      UserEvents userEvents) {
    this.queries = queries;
    this.conversations = conversations;
    this.agents = agents;
    this.launcher = launcher;
    this.tx = tx;
    this.limits = limits;
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
   * agent. The message continues the conversation's active branch.
   */
  public Sent send(
      UUID userId,
      UUID conversationId,
      String content,
      List<AgentSpec> requested,
      QueryPolicy requestedPolicy,
      String idempotencyKey) {
    var conversation = conversation(userId, conversationId);
    checkContent(content);
    checkIdempotencyKey(idempotencyKey);
    List<AgentSpec> chosen = chooseAgents(userId, conversation, requested, null);
    QueryPolicy policy = agents.checkPolicy(requestedPolicy, chosen);
    return start(
        userId,
        conversationId,
        chosen,
        policy,
        idempotencyKey,
        content,
        () -> {
          UUID parent = conversations.lockCurrentMessage(conversationId).orElse(null);
          UUID messageId = queries.insertUserMessage(conversationId, content, parent).id();
          conversations.setCurrentMessage(conversationId, messageId);
          return messageId;
        });
  }

  /**
   * Edits a user message: a new version of it (a sibling: same parent) becomes the end of the
   * active branch and is asked of {@code requested} agents, else of the agents the edited version
   * was asked. The old version and everything after it stay, on their own branch.
   */
  public Sent edit(
      UUID userId,
      UUID conversationId,
      UUID messageId,
      String content,
      List<AgentSpec> requested,
      QueryPolicy requestedPolicy,
      String idempotencyKey) {
    var conversation = conversation(userId, conversationId);
    MessageView original =
        queries
            .findMessageIn(conversationId, messageId)
            .orElseThrow(() -> new NotFoundException("message"));
    if (original.role() != MessageRole.USER) {
      throw new ApiException(
          HttpStatus.BAD_REQUEST,
          "not-a-user-message",
          "only user messages can be edited; regenerate an answer instead");
    }
    checkContent(content);
    checkIdempotencyKey(idempotencyKey);
    List<AgentSpec> previous =
        original.queryId() == null
            ? null
            : queries.findQuery(userId, original.queryId()).map(QueryView::agents).orElse(null);
    List<AgentSpec> chosen = chooseAgents(userId, conversation, requested, previous);
    QueryPolicy policy = agents.checkPolicy(requestedPolicy, chosen);
    return start(
        userId,
        conversationId,
        chosen,
        policy,
        idempotencyKey,
        content,
        () -> {
          conversations.lockCurrentMessage(conversationId);
          UUID edited =
              queries.insertUserMessage(conversationId, content, original.parentId()).id();
          conversations.setCurrentMessage(conversationId, edited);
          return edited;
        });
  }

  /**
   * Asks a finished query's user message again: a new query whose answers become the active ones of
   * that message (the old answers stay as their siblings). {@code agentName} regenerates one
   * agent's answer; {@code requested} asks other agents; neither asks the same agents again.
   */
  public Sent regenerate(
      UUID userId,
      UUID queryId,
      String agentName,
      List<AgentSpec> requested,
      QueryPolicy requestedPolicy,
      String idempotencyKey) {
    QueryView original = get(userId, queryId);
    var conversation = conversation(userId, original.conversationId());
    checkIdempotencyKey(idempotencyKey);
    if (idempotencyKey != null) {
      var existing = queries.queryIdForKey(userId, idempotencyKey);
      if (existing.isPresent()) {
        return replay(userId, existing.get(), null);
      }
    }
    if (!original.status().isFinal()) {
      throw new ApiException(
          HttpStatus.CONFLICT,
          "query-running",
          "the query is still " + original.status() + "; cancel it or wait before regenerating");
    }
    List<AgentSpec> base = original.agents();
    if (agentName != null && !agentName.isBlank()) {
      base =
          original.agents().stream()
              .filter(a -> a.name().equals(agentName))
              .findFirst()
              .map(List::of)
              .orElseThrow(() ->
                  new ApiException(
                      HttpStatus.BAD_REQUEST,
                      "invalid-agent",
                      "this query has no agent named '" + agentName + "'"));
    }
    List<AgentSpec> chosen = chooseAgents(userId, conversation, requested, base);
    QueryPolicy policy = agents.checkPolicy(requestedPolicy, chosen);
    UUID messageId = original.messageId();
    UUID conversationId = original.conversationId();
    return start(
        userId,
        conversationId,
        chosen,
        policy,
        idempotencyKey,
        null,
        () -> {
          conversations.lockCurrentMessage(conversationId);
          // Regenerating an answer off the active branch moves the view to that answer's branch.
          if (!queries.activePath(conversationId).contains(messageId)) {
            conversations.setCurrentMessage(conversationId, queries.newestLeaf(messageId));
          }
          return messageId;
        });
  }

  /**
   * Writes the query (and what {@code writeMessage} writes; it returns the user message the query
   * answers) in one transaction, then starts its workflow. A repeated {@code idempotencyKey}
   * returns what the first request created.
   */
  private Sent start(
      UUID userId,
      UUID conversationId,
      List<AgentSpec> chosen,
      QueryPolicy policy,
      String idempotencyKey,
      String content,
      Supplier<UUID> writeMessage) {
    if (idempotencyKey != null) {
      var existing = queries.queryIdForKey(userId, idempotencyKey);
      if (existing.isPresent()) {
        return replay(userId, existing.get(), content);
      }
    }
    UUID queryId = UUID.randomUUID();
    Sent sent;
    try {
      sent =
          tx.execute(status -> {
            // Per-user queries/minute and concurrent-query cap (429); a replay above is free.
            limits.admit(userId);
            UUID messageId = writeMessage.get();
            QueryView query =
                queries.insertQuery(
                    queryId, conversationId, userId, messageId, chosen, policy, idempotencyKey);
            return new Sent(queries.findMessage(messageId).orElseThrow(), query);
          });
    } catch (DuplicateKeyException raced) {
      // A concurrent request with the same Idempotency-Key won; answer with its result.
      return replay(userId, queries.queryIdForKey(userId, idempotencyKey).orElseThrow(), content);
    }
    // Before the start, so the owner's lists see PENDING before the worker's RUNNING.
    userEvents.publish(
        userId, new UserEvent.QueryStatusChanged(queryId, conversationId, sent.query().status()));
    launcher.start(
        new ChatQueryInput(queryId, conversationId, userId, sent.message().id(), chosen, policy));
    return sent;
  }

  /** Makes the branch of {@code message} the active one (see the select route). */
  void select(UUID conversationId, MessageView message) {
    tx.executeWithoutResult(status -> {
      conversations.lockCurrentMessage(conversationId);
      UUID userMessage = message.role() == MessageRole.USER ? message.id() : message.parentId();
      if (message.role() == MessageRole.ASSISTANT && userMessage != null) {
        queries.setActiveQuery(userMessage, message.queryId());
      }
      if (userMessage != null
          && (message.role() == MessageRole.USER
              || !queries.activePath(conversationId).contains(userMessage))) {
        conversations.setCurrentMessage(conversationId, queries.newestLeaf(userMessage));
      }
    });
  }

  private ConversationView conversation(UUID userId, UUID conversationId) {
    return conversations
        .find(userId, conversationId)
        .orElseThrow(() -> new NotFoundException("conversation"));
  }

  /**
   * The agents of a new query: the requested ones, else {@code fallback} (an edited or regenerated
   * query's), else the conversation's, else the user's {@code preferences.defaultAgents}, else the
   * server defaults; each without a system prompt or temperature of its own gets the
   * conversation's.
   */
  private List<AgentSpec> chooseAgents(
      UUID userId,
      ConversationView conversation,
      List<AgentSpec> requested,
      List<AgentSpec> fallback) {
    List<AgentSpec> chosen =
        requested != null && !requested.isEmpty()
            ? agents.normalize(userId, requested)
            : fallback != null && !fallback.isEmpty()
                ? agents.normalize(userId, fallback)
                : !conversation.agents().isEmpty()
                    ? agents.normalize(userId, conversation.agents())
                    : queries
                        .preferredAgents(userId)
                        .map(preferred -> agents.normalize(userId, preferred))
                        .orElseGet(() -> agents.defaults(userId));
    String system = conversation.systemPrompt();
    Double temperature = conversation.temperature();
    if (system == null && temperature == null) {
      return chosen;
    }
    return chosen.stream()
        .map(a ->
            new AgentSpec(
                a.provider(),
                a.model(),
                a.name(),
                a.systemPrompt() == null ? system : a.systemPrompt(),
                a.temperature() == null ? temperature : a.temperature(),
                a.maxTokens(),
                a.fallbacks()))
        .toList();
  }

  private static void checkContent(String content) {
    Texts.requireNoNul("content", content);
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
  }

  private static void checkIdempotencyKey(String idempotencyKey) {
    if (idempotencyKey != null && idempotencyKey.length() > MAX_IDEMPOTENCY_KEY) {
      throw new ApiException(
          HttpStatus.BAD_REQUEST, "invalid-idempotency-key", "Idempotency-Key is too long");
    }
  }

  /**
   * What the request that first used an Idempotency-Key got: its message, and its query as it was
   * accepted (PENDING, no answers yet; GET /api/queries/{id} tells how it went since). The key
   * reused with another {@code content} is refused rather than answered with a different message.
   */
  private Sent replay(UUID userId, UUID queryId, String content) {
    QueryView query = queries.findQuery(userId, queryId).orElseThrow();
    MessageView message = queries.findMessage(query.messageId()).orElseThrow();
    if (content != null && !content.equals(message.content())) {
      throw new ApiException(
          HttpStatus.UNPROCESSABLE_ENTITY,
          "idempotency-key-reused",
          "this Idempotency-Key was used for a different message; use a new key");
    }
    QueryView accepted =
        new QueryView(
            query.id(),
            query.conversationId(),
            query.messageId(),
            QueryStatus.PENDING,
            query.agents(),
            List.of(),
            List.of(),
            List.of(),
            query.workflowId(),
            query.createdAt(),
            null);
    return new Sent(message, accepted);
  }

  public QueryView get(UUID userId, UUID queryId) {
    return queries.findQuery(userId, queryId).orElseThrow(() -> new NotFoundException("query"));
  }

  /**
   * Stops the queries still under way in conversations that were just deleted: nobody can read
   * their answers any more, so they should not keep costing tokens. Each is cancelled like a user's
   * cancel (the partial text is kept with the deleted rows); one whose workflow never started is
   * cancelled in PostgreSQL. Best effort: a query that cannot be reached now (Temporal away) simply
   * finishes. Returns how many were stopped.
   */
  public int stopQueriesIn(List<UUID> conversationIds) {
    return stop(queries.activeQueryIds(conversationIds));
  }

  /** Stops every query of the user still under way (before the account goes). */
  public int stopQueriesOf(UUID userId) {
    return stop(queries.activeQueryIdsOfUser(userId));
  }

  private int stop(List<UUID> queryIds) {
    int stopped = 0;
    for (UUID queryId : queryIds) {
      try {
        if (launcher.cancel(queryId, null) || queries.cancelPending(queryId)) {
          stopped++;
        }
      } catch (RuntimeException e) {
        log.warn(
            "could not stop query {} of a deleted conversation or account: {}",
            queryId,
            e.toString());
      }
    }
    return stopped;
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
