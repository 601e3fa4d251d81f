package dev.chorus.worker.agent;

import dev.chorus.worker.provider.ChatMessage;
import dev.chorus.worker.provider.ChatMessage.Role;
import dev.chorus.worker.ranking.TextDigest;
import java.util.ArrayList;
import java.util.List;

/**
 * Fits a conversation into a token budget: system turns and the newest turns are sent as they are;
 * older turns that do not fit are summarized into one system turn (each clipped to a few words, the
 * oldest dropped first when even the summary is too long). Deterministic and local: no model call,
 * so it costs nothing and cannot fail. Tokens are estimated at four characters each.
 */
record ContextWindow(int maxTokens) {
  /** Words kept of each summarized turn. */
  static final int WORDS_PER_OLD_TURN = 30;

  /** Share of the budget the summary of older turns may take. */
  static final double SUMMARY_SHARE = 0.25;

  static final String SUMMARY_HEAD = "Earlier in this conversation (summarized):";

  static int estimate(String text) {
    return text.length() / 4 + 4;
  }

  /**
   * The turns to send, oldest first. The last user turn (the question) is always kept, even over
   * budget: the provider then says what its limit is. Continuation turns of a resumed attempt are
   * added after fitting.
   */
  List<ChatMessage> fit(List<ChatMessage> turns) {
    List<ChatMessage> system = new ArrayList<>();
    List<ChatMessage> dialog = new ArrayList<>();
    for (ChatMessage turn : turns) {
      (turn.role() == Role.SYSTEM ? system : dialog).add(turn);
    }
    int lastUser = dialog.size() - 1;
    while (lastUser > 0 && dialog.get(lastUser).role() != Role.USER) {
      lastUser--;
    }
    int used = system.stream().mapToInt(t -> estimate(t.content())).sum();
    for (int i = Math.max(lastUser, 0); i < dialog.size(); i++) {
      used += estimate(dialog.get(i).content());
    }
    int firstKept = Math.max(lastUser, 0);
    while (firstKept > 0 && used + estimate(dialog.get(firstKept - 1).content()) <= maxTokens) {
      firstKept--;
      used += estimate(dialog.get(firstKept).content());
    }
    List<ChatMessage> out = new ArrayList<>(system);
    if (firstKept > 0) {
      out.add(new ChatMessage(Role.SYSTEM, summary(dialog.subList(0, firstKept))));
    }
    out.addAll(dialog.subList(firstKept, dialog.size()));
    return out;
  }

  private String summary(List<ChatMessage> older) {
    int room = (int) (maxTokens * SUMMARY_SHARE);
    List<String> lines = new ArrayList<>();
    int used = estimate(SUMMARY_HEAD);
    // Newest first, so that when room runs out it is the oldest turns that go.
    for (int i = older.size() - 1; i >= 0; i--) {
      ChatMessage turn = older.get(i);
      String line =
          (turn.role() == Role.USER ? "- User: " : "- Assistant: ")
              + TextDigest.limitWords(turn.content(), WORDS_PER_OLD_TURN);
      if (used + estimate(line) > room) {
        break;
      }
      lines.addFirst(line);
      used += estimate(line);
    }
    return SUMMARY_HEAD + "\n" + String.join("\n", lines);
  }
}
