package dev.chorus.api.export;

import dev.chorus.api.auth.CurrentUser;
import dev.chorus.api.common.ApiException;
import dev.chorus.api.common.NotFoundException;
import dev.chorus.api.conversation.ConversationStore;
import dev.chorus.api.query.QueryStore;
import dev.chorus.model.api.ConversationView;
import dev.chorus.model.api.MessageView;
import dev.chorus.model.api.QueryView;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import org.springframework.http.ContentDisposition;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.security.core.annotation.AuthenticationPrincipal;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/**
 * A conversation as a file: JSON holds everything (every branch, every query with its responses,
 * summaries and ranking), Markdown the active branch for reading.
 */
@RestController
class ExportController {
  static final MediaType MARKDOWN = new MediaType("text", "markdown", StandardCharsets.UTF_8);

  /** The JSON export. {@code activeBranch}: the ids of the messages of the active branch. */
  record ConversationExport(
      Instant exportedAt,
      ConversationView conversation,
      List<MessageView> messages,
      List<UUID> activeBranch,
      List<QueryView> queries) {}

  private final ConversationStore conversations;
  private final QueryStore queries;

  ExportController(ConversationStore conversations, QueryStore queries) {
    this.conversations = conversations;
    this.queries = queries;
  }

  @GetMapping("/api/conversations/{id}/export")
  ResponseEntity<?> export(
      @AuthenticationPrincipal CurrentUser user,
      @PathVariable UUID id,
      @RequestParam(defaultValue = "json") String format) {
    ConversationView conversation =
        conversations.find(user.id(), id).orElseThrow(() -> new NotFoundException("conversation"));
    List<MessageView> active = queries.exportMessages(id, true);
    List<QueryView> all =
        queries.queryIds(id).stream()
            .map(q -> queries.findQuery(user.id(), q).orElseThrow())
            .toList();
    return switch (format) {
      case "json" ->
          ResponseEntity.ok()
              .contentType(MediaType.APPLICATION_JSON)
              .header(HttpHeaders.CONTENT_DISPOSITION, attachment(id, "json"))
              .body(
                  new ConversationExport(
                      Instant.now(),
                      conversation,
                      queries.exportMessages(id, false),
                      active.stream().map(MessageView::id).toList(),
                      all));
      case "md", "markdown" ->
          ResponseEntity.ok()
              .contentType(MARKDOWN)
              .header(HttpHeaders.CONTENT_DISPOSITION, attachment(id, "md"))
              .body(MarkdownExport.render(conversation, active, all));
      default ->
          throw new ApiException(
              HttpStatus.BAD_REQUEST, "invalid-format", "format must be 'json' or 'md'");
    };
  }

  private static String attachment(UUID id, String extension) {
    return ContentDisposition.attachment()
        .filename("conversation-" + id + "." + extension)
        .build()
        .toString();
  }
}
