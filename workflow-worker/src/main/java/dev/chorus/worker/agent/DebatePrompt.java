package dev.chorus.worker.agent;

import dev.chorus.model.workflow.AgentTask;
import dev.chorus.model.workflow.DebateNames;
import dev.chorus.worker.provider.ChatMessage;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The prompt of a debate's revision round or synthesis: the conversation as the agent sees it,
 * whose last turn — the user's question — gets the earlier answers and the instruction appended
 * (one user turn, so providers that want alternating turns accept it). Each answer is clipped to
 * {@value #MAX_ANSWER_CHARS} characters.
 */
final class DebatePrompt {
  static final int MAX_ANSWER_CHARS = 8_000;

  static final String REVISE =
      "Revise your answer to the question above in the light of the other answers: keep what holds"
          + " up, correct what they show to be wrong or missing, and answer the question directly"
          + " (do not describe the debate).";

  static final String SYNTHESIZE =
      "Write one answer to the question above that combines the best of these answers: keep what"
          + " they agree on, settle where they differ, and answer the question directly (do not"
          + " mention the other answers).";

  private DebatePrompt() {}

  /**
   * The turns to send for {@code task} (which must be a debate step): {@code context} as loaded for
   * its speaker, ending with the user's question, and {@code answers} (response name → text) of the
   * answers the step shows; answers missing from the map (not completed) are left out.
   */
  static List<ChatMessage> build(
      AgentTask task, List<ChatMessage> context, Map<String, String> answers) {
    AgentTask.Debate debate = task.debate();
    StringBuilder added = new StringBuilder();
    if (debate.synthesis()) {
      added.append("Several agents answered this question:\n");
      for (String name : debate.answers()) {
        appendAnswer(added, name, answers.get(name));
      }
      added.append('\n').append(SYNTHESIZE);
    } else {
      added.append("Other agents answered:\n");
      for (String name : debate.answers()) {
        if (!name.equals(debate.own())) {
          appendAnswer(added, name, answers.get(name));
        }
      }
      String own = debate.own() == null ? null : answers.get(debate.own());
      if (own != null) {
        added.append("\nYour previous answer:\n").append(clip(own)).append('\n');
      }
      added.append('\n').append(REVISE);
    }
    List<ChatMessage> turns = new ArrayList<>(context);
    int last = turns.size() - 1;
    if (last >= 0 && turns.get(last).role() == ChatMessage.Role.USER) {
      turns.set(
          last,
          new ChatMessage(ChatMessage.Role.USER, turns.get(last).content() + "\n\n---\n" + added));
    } else {
      turns.add(new ChatMessage(ChatMessage.Role.USER, added.toString()));
    }
    return turns;
  }

  private static void appendAnswer(StringBuilder out, String name, String text) {
    if (text == null) {
      return;
    }
    out.append("\n[")
        .append(DebateNames.agentOf(name))
        .append("]: ")
        .append(clip(text))
        .append('\n');
  }

  /** At most {@value #MAX_ANSWER_CHARS} characters, cut with "…" when longer. */
  static String clip(String text) {
    if (text.length() <= MAX_ANSWER_CHARS) {
      return text;
    }
    int end = MAX_ANSWER_CHARS - 1;
    if (Character.isHighSurrogate(text.charAt(end - 1))) {
      end--; // never split a surrogate pair
    }
    return text.substring(0, end) + "…";
  }
}
