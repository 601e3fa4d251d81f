package dev.chorus.api.conversation;

import dev.chorus.api.auth.CurrentUser;
import dev.chorus.api.common.Cursor;
import dev.chorus.api.common.NotFoundException;
import dev.chorus.api.common.Page;
import dev.chorus.api.notify.UserEvents;
import dev.chorus.api.query.AgentPolicy;
import dev.chorus.model.agent.AgentSpec;
import dev.chorus.model.api.ConversationView;
import dev.chorus.model.notify.UserEvent;
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
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.ResponseStatus;
import org.springframework.web.bind.annotation.RestController;

@RestController
@RequestMapping("/api/conversations")
class ConversationController {
  record CreateConversation(@Size(max = 200) String title, @Valid List<AgentSpec> agents) {}

  private final ConversationStore store;
  private final AgentPolicy agents;
  private final UserEvents userEvents;

  ConversationController(ConversationStore store, AgentPolicy agents, UserEvents userEvents) {
    this.store = store;
    this.agents = agents;
    this.userEvents = userEvents;
  }

  @PostMapping
  @ResponseStatus(HttpStatus.CREATED)
  ConversationView create(
      @AuthenticationPrincipal CurrentUser user,
      @Valid @RequestBody(required = false) CreateConversation body) {
    String title = body == null ? null : body.title();
    List<AgentSpec> chosen =
        body == null || body.agents() == null || body.agents().isEmpty()
            ? List.of()
            : agents.normalize(user.id(), body.agents());
    ConversationView created = store.insert(user.id(), title, chosen);
    userEvents.publish(user.id(), new UserEvent.ConversationCreated(created));
    return created;
  }

  @GetMapping
  Page<ConversationView> list(
      @AuthenticationPrincipal CurrentUser user,
      @RequestParam(defaultValue = "false") boolean archived,
      @RequestParam(required = false) String cursor,
      @RequestParam(required = false) Integer limit) {
    int size = Cursor.limit(limit);
    var rows =
        store.list(user.id(), archived, cursor == null ? null : Cursor.decode(cursor), size + 1);
    return Page.of(rows, size, c -> new Cursor(c.updatedAt(), c.id()));
  }

  @GetMapping("/{id}")
  ConversationView get(@AuthenticationPrincipal CurrentUser user, @PathVariable UUID id) {
    return store.find(user.id(), id).orElseThrow(() -> new NotFoundException("conversation"));
  }
}
