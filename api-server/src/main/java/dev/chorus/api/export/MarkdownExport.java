package dev.chorus.api.export;

import dev.chorus.model.api.ConversationView;
import dev.chorus.model.api.MessageRole;
import dev.chorus.model.api.MessageView;
import dev.chorus.model.api.QueryView;
import dev.chorus.model.api.RankEntry;
import dev.chorus.model.api.ResponseView;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * The active branch of a conversation as Markdown: each question under "You", each answer under its
 * agent with provider, model, rank and score. Other branches are counted, not shown.
 */
final class MarkdownExport {
  private MarkdownExport() {}

  static String render(
      ConversationView conversation, List<MessageView> branch, List<QueryView> queries) {
    Map<UUID, QueryView> byId =
        queries.stream().collect(Collectors.toMap(QueryView::id, Function.identity()));
    var out = new StringBuilder();
    out.append("# ")
        .append(conversation.title() == null ? "Untitled conversation" : conversation.title())
        .append("\n\n");
    out.append("- Conversation: `").append(conversation.id()).append("`\n");
    out.append("- Created: ").append(conversation.createdAt()).append("\n");
    if (conversation.systemPrompt() != null) {
      out.append("- System prompt: ").append(oneLine(conversation.systemPrompt())).append("\n");
    }
    long alternatives =
        branch.stream().filter(m -> m.siblings() != null && m.siblings().size() > 1).count();
    if (alternatives > 0) {
      out.append("- ")
          .append(alternatives)
          .append(
              " message(s) here have other versions (edits or regenerated answers);"
                  + " the JSON export holds every branch.\n");
    }
    for (MessageView m : branch) {
      out.append("\n");
      if (m.role() == MessageRole.USER) {
        out.append("## You\n\n").append(m.content().strip()).append("\n");
        continue;
      }
      QueryView query = m.queryId() == null ? null : byId.get(m.queryId());
      out.append("### ").append(m.agent());
      if (query != null) {
        query.responses().stream()
            .filter(r -> r.agent().equals(m.agent()))
            .findFirst()
            .ifPresent(r -> out.append(" (").append(describe(r)).append(")"));
        query.ranking().stream()
            .filter(r -> r.agent().equals(m.agent()))
            .findFirst()
            .ifPresent(r -> out.append(" — ").append(rank(r)));
      }
      out.append("\n\n").append(m.content().strip()).append("\n");
    }
    return out.toString();
  }

  private static String describe(ResponseView r) {
    return r.provider()
        + "/"
        + r.model()
        + ", "
        + r.status().name().toLowerCase(java.util.Locale.ROOT);
  }

  private static String rank(RankEntry r) {
    return "rank "
        + r.rank()
        + ", score "
        + String.format(java.util.Locale.ROOT, "%.2f", r.score());
  }

  private static String oneLine(String text) {
    return text.strip().replaceAll("\\s+", " ");
  }
}
