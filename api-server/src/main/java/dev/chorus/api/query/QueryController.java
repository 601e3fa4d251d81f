package dev.chorus.api.query;

import dev.chorus.api.auth.CurrentUser;
import dev.chorus.model.agent.AgentSpec;
import dev.chorus.model.api.QueryView;
import dev.chorus.model.workflow.QueryPolicy;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.ExampleObject;
import jakarta.validation.Valid;
import jakarta.validation.constraints.Size;
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
import org.springframework.web.bind.annotation.ResponseStatus;
import org.springframework.web.bind.annotation.RestController;

@RestController
@RequestMapping("/api/queries")
class QueryController {
  private final QueryService service;

  QueryController(QueryService service) {
    this.service = service;
  }

  @GetMapping("/{id}")
  @Operation(summary = "Read a query: status, responses, summaries, ranking")
  QueryView get(@AuthenticationPrincipal CurrentUser user, @PathVariable UUID id) {
    return service.get(user.id(), id);
  }

  record CancelRequest(@Size(max = 200) String agent) {}

  /**
   * {@code agent}: regenerate only this agent's answer; {@code agents}: ask these agents instead.
   */
  record RegenerateRequest(
      @Size(max = 200) String agent, List<AgentSpec> agents, QueryPolicy policy) {}

  /**
   * Asks the query's user message again: a new query (202, as on send) whose answers become the
   * active ones; the old answers stay as their siblings.
   */
  @PostMapping("/{id}/regenerate")
  @ResponseStatus(HttpStatus.ACCEPTED)
  QueryService.Sent regenerate(
      @AuthenticationPrincipal CurrentUser user,
      @PathVariable UUID id,
      @RequestHeader(name = "Idempotency-Key", required = false) String idempotencyKey,
      @Valid @RequestBody(required = false) RegenerateRequest body) {
    return service.regenerate(
        user.id(),
        id,
        body == null ? null : body.agent(),
        body == null ? null : body.agents(),
        body == null ? null : body.policy(),
        idempotencyKey);
  }

  /** Cancels the whole query, or one agent with {@code {"agent": "<name>"}}. */
  @PostMapping("/{id}/cancel")
  @Operation(summary = "Cancel a query, or one of its agents")
  @io.swagger.v3.oas.annotations.parameters.RequestBody(
      content = @Content(examples = @ExampleObject(value = "{\"agent\": \"mock/alpha\"}")))
  @ResponseStatus(HttpStatus.ACCEPTED)
  QueryService.CancelAccepted cancel(
      @AuthenticationPrincipal CurrentUser user,
      @PathVariable UUID id,
      @Valid @RequestBody(required = false) CancelRequest body) {
    return service.cancel(user.id(), id, body == null ? null : body.agent());
  }
}
