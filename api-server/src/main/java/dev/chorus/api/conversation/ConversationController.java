package dev.chorus.api.conversation;

import com.fasterxml.jackson.databind.JsonNode;
import dev.chorus.api.auth.CurrentUser;
import dev.chorus.api.common.ApiException;
import dev.chorus.api.common.Cursor;
import dev.chorus.api.common.NotFoundException;
import dev.chorus.api.common.Page;
import dev.chorus.api.common.Texts;
import dev.chorus.api.notify.UserEvents;
import dev.chorus.api.preset.PresetStore;
import dev.chorus.api.query.AgentPolicy;
import dev.chorus.api.query.QueryService;
import dev.chorus.model.agent.AgentSpec;
import dev.chorus.model.api.ConversationView;
import dev.chorus.model.notify.UserEvent;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.ExampleObject;
import jakarta.validation.Valid;
import jakarta.validation.constraints.DecimalMax;
import jakarta.validation.constraints.DecimalMin;
import jakarta.validation.constraints.NotEmpty;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Size;
import java.util.List;
import java.util.UUID;
import org.springframework.dao.DuplicateKeyException;
import org.springframework.http.HttpStatus;
import org.springframework.security.core.annotation.AuthenticationPrincipal;
import org.springframework.web.bind.annotation.DeleteMapping;
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

@RestController
@RequestMapping("/api/conversations")
class ConversationController {
  static final int MAX_TITLE = 200;
  static final int MAX_QUERY = 200;
  static final int MAX_BATCH = 200;

  /**
   * A new conversation; with {@code presetId}, the preset's agents and settings, each overridden by
   * the field given here.
   */
  record CreateConversation(
      @Size(max = MAX_TITLE) String title,
      @Valid List<AgentSpec> agents,
      @Size(max = ConversationPatch.MAX_SYSTEM_PROMPT) String systemPrompt,
      @DecimalMin("0") @DecimalMax("2") Double temperature,
      UUID presetId) {}

  record BatchDelete(@NotNull @NotEmpty @Size(max = MAX_BATCH) List<@NotNull UUID> ids) {}

  /** The conversations a delete removed (only the caller's own are ever counted). */
  record Deleted(List<UUID> deleted, int count) {
    Deleted(List<UUID> deleted) {
      this(deleted, deleted.size());
    }
  }

  private final ConversationStore store;
  private final AgentPolicy agents;
  private final PresetStore presets;
  private final UserEvents userEvents;
  private final QueryService queries;

  ConversationController(
      ConversationStore store,
      AgentPolicy agents,
      PresetStore presets,
      UserEvents userEvents,
      QueryService queries) {
    this.store = store;
    this.queries = queries;
    this.agents = agents;
    this.presets = presets;
    this.userEvents = userEvents;
  }

  @PostMapping
  @Operation(summary = "Create a conversation")
  @io.swagger.v3.oas.annotations.parameters.RequestBody(
      content =
          @Content(
              examples =
                  @ExampleObject(
                      value =
                          "{\"title\": \"Why is the sky blue?\", \"agents\": [{\"provider\": \"mock\", \"model\": \"alpha\"}, {\"provider\": \"mock\", \"model\": \"beta\", \"name\": \"critic\"}]}")))
  @ResponseStatus(HttpStatus.CREATED)
  ConversationView create(
      @AuthenticationPrincipal CurrentUser user,
      @RequestHeader(name = "Idempotency-Key", required = false) String idempotencyKey,
      @Valid @RequestBody(required = false) CreateConversation body) {
    CreateConversation b =
        body == null ? new CreateConversation(null, null, null, null, null) : body;
    Texts.requireNoNul("title", b.title());
    Texts.requireNoNul("systemPrompt", b.systemPrompt());
    if (idempotencyKey != null) {
      if (idempotencyKey.isBlank() || idempotencyKey.length() > 200) {
        throw new ApiException(
            HttpStatus.BAD_REQUEST,
            "invalid-idempotency-key",
            "Idempotency-Key must be 1 to 200 characters");
      }
      var existing = store.findByIdempotencyKey(user.id(), idempotencyKey);
      if (existing.isPresent()) {
        return existing.get();
      }
    }
    List<AgentSpec> chosen = b.agents();
    String systemPrompt = b.systemPrompt();
    Double temperature = b.temperature();
    if (b.presetId() != null) {
      var preset =
          presets
              .findVisible(user.id(), b.presetId())
              .orElseThrow(() -> new NotFoundException("preset"));
      chosen = chosen == null || chosen.isEmpty() ? preset.agents() : chosen;
      systemPrompt = systemPrompt == null ? preset.systemPrompt() : systemPrompt;
      temperature = temperature == null ? preset.temperature() : temperature;
    }
    chosen = chosen == null || chosen.isEmpty() ? List.of() : agents.normalize(user.id(), chosen);
    var conversation =
        new ConversationStore.NewConversation(
            blankToNull(b.title()), chosen, blankToNull(systemPrompt), temperature, b.presetId());
    ConversationView created;
    try {
      created = store.insert(user.id(), conversation, idempotencyKey);
    } catch (DuplicateKeyException raced) {
      return store.findByIdempotencyKey(user.id(), idempotencyKey).orElseThrow();
    }
    userEvents.publish(user.id(), new UserEvent.ConversationCreated(created));
    return created;
  }

  /**
   * The caller's conversations, newest activity first; {@code q} searches titles and message
   * contents (each hit with a {@code snippet}); {@code archived=true} lists the archived ones.
   */
  @GetMapping
  @Operation(summary = "List your conversations, newest first")
  Page<ConversationView> list(
      @AuthenticationPrincipal CurrentUser user,
      @RequestParam(defaultValue = "false") boolean archived,
      @RequestParam(required = false) String q,
      @RequestParam(required = false) String cursor,
      @RequestParam(required = false) Integer limit) {
    int size = Cursor.limit(limit);
    Texts.requireNoNul("q", q);
    String query = q == null || q.isBlank() ? null : q.strip();
    if (query != null && query.length() > MAX_QUERY) {
      throw new ApiException(
          HttpStatus.BAD_REQUEST, "invalid-query", "q is limited to " + MAX_QUERY + " characters");
    }
    var rows =
        store.list(
            user.id(), archived, query, cursor == null ? null : Cursor.decode(cursor), size + 1);
    return Page.of(rows, size, c -> new Cursor(c.updatedAt(), c.id()));
  }

  @GetMapping("/{id}")
  @Operation(summary = "Read a conversation")
  ConversationView get(@AuthenticationPrincipal CurrentUser user, @PathVariable UUID id) {
    return store.find(user.id(), id).orElseThrow(() -> new NotFoundException("conversation"));
  }

  /**
   * Renames, archives or changes the settings new messages use (agents, systemPrompt, temperature);
   * a field sent as null is cleared, a field left out stays.
   */
  @PatchMapping("/{id}")
  ConversationView update(
      @AuthenticationPrincipal CurrentUser user,
      @PathVariable UUID id,
      @RequestBody JsonNode body) {
    store.find(user.id(), id).orElseThrow(() -> new NotFoundException("conversation"));
    var change = ConversationPatch.parse(body, list -> agents.normalize(user.id(), list));
    ConversationView updated =
        store
            .update(user.id(), id, change)
            .orElseThrow(() -> new NotFoundException("conversation"));
    userEvents.publish(user.id(), new UserEvent.ConversationUpdated(updated));
    return updated;
  }

  /**
   * Soft delete: the conversation disappears from every route; its rows stay for the stats. Its
   * queries still under way are cancelled.
   */
  @DeleteMapping("/{id}")
  @ResponseStatus(HttpStatus.NO_CONTENT)
  void delete(@AuthenticationPrincipal CurrentUser user, @PathVariable UUID id) {
    if (store.softDelete(user.id(), List.of(id)).isEmpty()) {
      throw new NotFoundException("conversation");
    }
    queries.stopQueriesIn(List.of(id));
    userEvents.publish(user.id(), new UserEvent.ConversationDeleted(id));
  }

  /** Deletes the caller's conversations among {@code ids}; other ids are skipped. */
  @PostMapping("/batch-delete")
  Deleted batchDelete(
      @AuthenticationPrincipal CurrentUser user, @Valid @RequestBody BatchDelete body) {
    return deleted(
        user.id(),
        store.softDelete(user.id(), List.copyOf(new java.util.LinkedHashSet<>(body.ids()))));
  }

  /** Deletes every conversation of the caller that has no message. */
  @PostMapping("/delete-empty")
  Deleted deleteEmpty(@AuthenticationPrincipal CurrentUser user) {
    return deleted(user.id(), store.softDeleteEmpty(user.id()));
  }

  /**
   * Stops their queries still under way and tells the user's other sessions (conversation-list
   * channel) which conversations went.
   */
  private Deleted deleted(UUID userId, List<UUID> ids) {
    queries.stopQueriesIn(ids);
    ids.forEach(id -> userEvents.publish(userId, new UserEvent.ConversationDeleted(id)));
    return new Deleted(ids);
  }

  private static String blankToNull(String s) {
    return s == null || s.isBlank() ? null : s.strip();
  }
}
