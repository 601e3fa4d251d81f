package dev.chorus.api.query;

import dev.chorus.api.auth.CurrentUser;
import dev.chorus.api.common.ApiException;
import dev.chorus.api.common.Cursor;
import dev.chorus.api.common.NotFoundException;
import dev.chorus.api.common.Page;
import dev.chorus.api.conversation.ConversationStore;
import dev.chorus.model.agent.AgentSpec;
import dev.chorus.model.api.ConversationView;
import dev.chorus.model.api.MessageRole;
import dev.chorus.model.api.MessageView;
import dev.chorus.model.workflow.QueryPolicy;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.ExampleObject;
import jakarta.validation.Valid;
import jakarta.validation.constraints.NotBlank;
import java.util.List;
import java.util.UUID;
import org.springframework.http.HttpStatus;
import org.springframework.security.core.annotation.AuthenticationPrincipal;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PatchMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.ResponseStatus;
import org.springframework.web.bind.annotation.RestController;

/**
 * A conversation's messages and their branches: sending, editing a user message (a new branch),
 * regenerating an answer, listing the active branch (or every message), and moving between
 * branches.
 */
@RestController
@RequestMapping("/api/conversations/{conversationId}/messages")
class MessageController {
  record SendMessage(@NotBlank String content, List<AgentSpec> agents, QueryPolicy policy) {}

  record Regenerate(List<AgentSpec> agents, QueryPolicy policy) {}

  /** The messages that are alternatives of one. */
  record Siblings(List<MessageView> items) {}

  private final QueryService service;
  private final QueryStore queries;
  private final ConversationStore conversations;

  MessageController(QueryService service, QueryStore queries, ConversationStore conversations) {
    this.service = service;
    this.queries = queries;
    this.conversations = conversations;
  }

  @PostMapping
  @Operation(summary = "Send a message: starts a query over the agents")
  @io.swagger.v3.oas.annotations.parameters.RequestBody(
      content =
          @Content(
              examples =
                  @ExampleObject(
                      value =
                          "{\"content\": \"Why is the sky blue?\", \"agents\": [{\"provider\": \"mock\", \"model\": \"alpha\"}, {\"provider\": \"mock\", \"model\": \"beta\", \"name\": \"critic\", \"temperature\": 0.2}]}")))
  @ResponseStatus(HttpStatus.ACCEPTED)
  QueryService.Sent send(
      @AuthenticationPrincipal CurrentUser user,
      @PathVariable UUID conversationId,
      @RequestHeader(name = "Idempotency-Key", required = false) String idempotencyKey,
      @Valid @RequestBody SendMessage body) {
    return service.send(
        user.id(), conversationId, body.content(), body.agents(), body.policy(), idempotencyKey);
  }

  /**
   * {@code branch=active} (default): the branch the user looks at, each question followed by its
   * active answers; {@code branch=all}: every message of every branch in the order written.
   */
  @GetMapping
  @Operation(summary = "List a conversation's messages, oldest first")
  Page<MessageView> list(
      @AuthenticationPrincipal CurrentUser user,
      @PathVariable UUID conversationId,
      @RequestParam(defaultValue = "active") String branch,
      @RequestParam(required = false) String cursor,
      @RequestParam(required = false) Integer limit) {
    conversation(user, conversationId);
    int size = Cursor.limit(limit);
    Cursor after = cursor == null ? null : Cursor.decode(cursor);
    List<MessageView> rows =
        switch (branch) {
          case "active" ->
              queries.activeBranch(conversationId, after == null ? null : after.id(), size + 1);
          case "all" -> queries.messages(conversationId, after, size + 1);
          default ->
              throw new ApiException(
                  HttpStatus.BAD_REQUEST, "invalid-branch", "branch must be 'active' or 'all'");
        };
    Page<MessageView> page = Page.of(rows, size, m -> new Cursor(m.createdAt(), m.id()));
    return new Page<>(queries.withSiblings(conversationId, page.items()), page.nextCursor());
  }

  @GetMapping("/{messageId}")
  MessageView get(
      @AuthenticationPrincipal CurrentUser user,
      @PathVariable UUID conversationId,
      @PathVariable UUID messageId) {
    conversation(user, conversationId);
    return queries.withSiblings(conversationId, List.of(message(conversationId, messageId))).get(0);
  }

  /** The versions of an edited user message, or an agent's answers to one user message. */
  @GetMapping("/{messageId}/siblings")
  Siblings siblings(
      @AuthenticationPrincipal CurrentUser user,
      @PathVariable UUID conversationId,
      @PathVariable UUID messageId) {
    conversation(user, conversationId);
    MessageView message =
        queries.withSiblings(conversationId, List.of(message(conversationId, messageId))).get(0);
    List<MessageView> items =
        message.siblings().stream().map(id -> message(conversationId, id)).toList();
    return new Siblings(queries.withSiblings(conversationId, items));
  }

  /** Edits a user message: a new version on a new branch, answered by a new query. */
  @PostMapping("/{messageId}/edit")
  @ResponseStatus(HttpStatus.ACCEPTED)
  QueryService.Sent edit(
      @AuthenticationPrincipal CurrentUser user,
      @PathVariable UUID conversationId,
      @PathVariable UUID messageId,
      @RequestHeader(name = "Idempotency-Key", required = false) String idempotencyKey,
      @Valid @RequestBody SendMessage body) {
    return service.edit(
        user.id(),
        conversationId,
        messageId,
        body.content(),
        body.agents(),
        body.policy(),
        idempotencyKey);
  }

  /** The same as {@code POST .../edit}. */
  @PatchMapping("/{messageId}")
  @ResponseStatus(HttpStatus.ACCEPTED)
  QueryService.Sent patch(
      @AuthenticationPrincipal CurrentUser user,
      @PathVariable UUID conversationId,
      @PathVariable UUID messageId,
      @RequestHeader(name = "Idempotency-Key", required = false) String idempotencyKey,
      @Valid @RequestBody SendMessage body) {
    return edit(user, conversationId, messageId, idempotencyKey, body);
  }

  /**
   * Regenerates: on an assistant message, that agent's answer; on a user message, the answers of
   * all the agents of its active query (or of {@code agents}).
   */
  @PostMapping("/{messageId}/regenerate")
  @ResponseStatus(HttpStatus.ACCEPTED)
  QueryService.Sent regenerate(
      @AuthenticationPrincipal CurrentUser user,
      @PathVariable UUID conversationId,
      @PathVariable UUID messageId,
      @RequestHeader(name = "Idempotency-Key", required = false) String idempotencyKey,
      @RequestBody(required = false) Regenerate body) {
    conversation(user, conversationId);
    MessageView message = message(conversationId, messageId);
    if (message.queryId() == null) {
      throw new ApiException(
          HttpStatus.CONFLICT, "no-query", "this message has no query to regenerate");
    }
    return service.regenerate(
        user.id(),
        message.queryId(),
        message.role() == MessageRole.ASSISTANT ? message.agent() : null,
        body == null ? null : body.agents(),
        body == null ? null : body.policy(),
        idempotencyKey);
  }

  /**
   * Moves to a branch: a user message makes its branch (down to its newest continuation) the active
   * one; an assistant message makes its query's answers the active answers of its question.
   */
  @PostMapping("/{messageId}/select")
  ConversationView select(
      @AuthenticationPrincipal CurrentUser user,
      @PathVariable UUID conversationId,
      @PathVariable UUID messageId) {
    conversation(user, conversationId);
    MessageView message = message(conversationId, messageId);
    service.select(conversationId, message);
    return conversation(user, conversationId);
  }

  private ConversationView conversation(CurrentUser user, UUID conversationId) {
    return conversations
        .find(user.id(), conversationId)
        .orElseThrow(() -> new NotFoundException("conversation"));
  }

  private MessageView message(UUID conversationId, UUID messageId) {
    return queries
        .findMessageIn(conversationId, messageId)
        .orElseThrow(() -> new NotFoundException("message"));
  }
}
