package dev.chorus.api.query;

import dev.chorus.api.auth.CurrentUser;
import dev.chorus.api.common.Cursor;
import dev.chorus.api.common.NotFoundException;
import dev.chorus.api.common.Page;
import dev.chorus.api.conversation.ConversationStore;
import dev.chorus.model.agent.AgentSpec;
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
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.ResponseStatus;
import org.springframework.web.bind.annotation.RestController;

@RestController
@RequestMapping("/api/conversations/{conversationId}/messages")
class MessageController {
  record SendMessage(@NotBlank String content, List<AgentSpec> agents, QueryPolicy policy) {}

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

  @GetMapping
  @Operation(summary = "List a conversation's messages, oldest first")
  Page<MessageView> list(
      @AuthenticationPrincipal CurrentUser user,
      @PathVariable UUID conversationId,
      @RequestParam(required = false) String cursor,
      @RequestParam(required = false) Integer limit) {
    conversations
        .find(user.id(), conversationId)
        .orElseThrow(() -> new NotFoundException("conversation"));
    int size = Cursor.limit(limit);
    var rows =
        queries.messages(conversationId, cursor == null ? null : Cursor.decode(cursor), size + 1);
    return Page.of(rows, size, m -> new Cursor(m.createdAt(), m.id()));
  }
}
