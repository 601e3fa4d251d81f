package dev.chorus.api.preset;

import dev.chorus.api.auth.CurrentUser;
import dev.chorus.api.common.ApiException;
import dev.chorus.api.common.Cursor;
import dev.chorus.api.common.NotFoundException;
import dev.chorus.api.common.Page;
import dev.chorus.api.common.Texts;
import dev.chorus.api.query.AgentPolicy;
import dev.chorus.model.agent.AgentSpec;
import jakarta.validation.Valid;
import jakarta.validation.constraints.DecimalMax;
import jakarta.validation.constraints.DecimalMin;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotEmpty;
import jakarta.validation.constraints.Pattern;
import jakarta.validation.constraints.Size;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import org.springframework.http.HttpStatus;
import org.springframework.security.core.annotation.AuthenticationPrincipal;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.PutMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.ResponseStatus;
import org.springframework.web.bind.annotation.RestController;

/**
 * Presets: named agent sets with a system prompt and temperature. Private ones are seen by their
 * owner only (another user gets 404); public ones are listed to everyone and used by anyone, but
 * changed only by their owner (403 for the others, who can see them).
 */
@RestController
@RequestMapping("/api/presets")
class PresetController {
  record PresetBody(
      @NotBlank @Size(max = 100) String name,
      @Size(max = 1000) String description,
      @NotEmpty @Valid List<AgentSpec> agents,
      @Size(max = 20_000) String systemPrompt,
      @DecimalMin("0") @DecimalMax("2") Double temperature,
      @Pattern(regexp = "private|public", message = "must be 'private' or 'public'")
          String visibility) {}

  private final PresetStore store;
  private final AgentPolicy agents;

  PresetController(PresetStore store, AgentPolicy agents) {
    this.store = store;
    this.agents = agents;
  }

  @PostMapping
  @ResponseStatus(HttpStatus.CREATED)
  PresetView create(
      @AuthenticationPrincipal CurrentUser user, @Valid @RequestBody PresetBody body) {
    return store.insert(user.id(), fields(user, body));
  }

  /** {@code scope=mine|public|all} (default all: the caller's own and every public one). */
  @GetMapping
  Page<PresetView> list(
      @AuthenticationPrincipal CurrentUser user,
      @RequestParam(defaultValue = "all") String scope,
      @RequestParam(required = false) String cursor,
      @RequestParam(required = false) Integer limit) {
    PresetStore.Scope chosen;
    try {
      chosen = PresetStore.Scope.valueOf(scope.toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new ApiException(
          HttpStatus.BAD_REQUEST, "invalid-scope", "scope must be mine, public or all");
    }
    int size = Cursor.limit(limit);
    var rows =
        store.list(user.id(), chosen, cursor == null ? null : Cursor.decode(cursor), size + 1);
    return Page.of(rows, size, p -> new Cursor(p.createdAt(), p.id()));
  }

  @GetMapping("/{id}")
  PresetView get(@AuthenticationPrincipal CurrentUser user, @PathVariable UUID id) {
    return store.findVisible(user.id(), id).orElseThrow(() -> new NotFoundException("preset"));
  }

  /** Replaces the preset (the whole body, as on create). */
  @PutMapping("/{id}")
  PresetView replace(
      @AuthenticationPrincipal CurrentUser user,
      @PathVariable UUID id,
      @Valid @RequestBody PresetBody body) {
    requireOwner(user, id);
    return store
        .update(user.id(), id, fields(user, body))
        .orElseThrow(() -> new NotFoundException("preset"));
  }

  @DeleteMapping("/{id}")
  @ResponseStatus(HttpStatus.NO_CONTENT)
  void delete(@AuthenticationPrincipal CurrentUser user, @PathVariable UUID id) {
    requireOwner(user, id);
    store.delete(user.id(), id);
  }

  private void requireOwner(CurrentUser user, UUID id) {
    var row = store.findRow(user.id(), id).orElseThrow(() -> new NotFoundException("preset"));
    if (!row.ownerId().equals(user.id())) {
      throw new ApiException(
          HttpStatus.FORBIDDEN, "not-owner", "only the owner of a public preset may change it");
    }
  }

  private PresetStore.Fields fields(CurrentUser user, PresetBody body) {
    Texts.requireNoNul("name", body.name());
    Texts.requireNoNul("description", body.description());
    Texts.requireNoNul("systemPrompt", body.systemPrompt());
    return new PresetStore.Fields(
        body.name().strip(),
        body.description() == null || body.description().isBlank() ? null : body.description(),
        agents.normalize(user.id(), body.agents()),
        body.systemPrompt() == null || body.systemPrompt().isBlank() ? null : body.systemPrompt(),
        body.temperature(),
        body.visibility() == null ? "private" : body.visibility());
  }
}
