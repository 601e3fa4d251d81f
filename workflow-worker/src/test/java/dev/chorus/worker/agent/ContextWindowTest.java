package dev.chorus.worker.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.chorus.worker.provider.ChatMessage;
import dev.chorus.worker.provider.ChatMessage.Role;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ContextWindowTest {
  private static ChatMessage user(String text) {
    return new ChatMessage(Role.USER, text);
  }

  private static ChatMessage assistant(String text) {
    return new ChatMessage(Role.ASSISTANT, text);
  }

  private static List<ChatMessage> conversation(int exchanges, int wordsPerTurn) {
    List<ChatMessage> turns = new ArrayList<>();
    turns.add(new ChatMessage(Role.SYSTEM, "You are terse."));
    for (int i = 0; i < exchanges; i++) {
      turns.add(user(("question" + i + " ").repeat(wordsPerTurn)));
      turns.add(assistant(("answer" + i + " ").repeat(wordsPerTurn)));
    }
    turns.add(user("And now?"));
    return turns;
  }

  @Test
  void aConversationWithinTheBudgetIsSentAsItIs() {
    List<ChatMessage> turns = conversation(3, 5);

    assertThat(new ContextWindow(8000).fit(turns)).isEqualTo(turns);
  }

  @Test
  void olderTurnsThatDoNotFitBecomeOneSummaryAfterTheSystemPrompt() {
    List<ChatMessage> turns = conversation(20, 200);

    List<ChatMessage> fitted = new ContextWindow(2000).fit(turns);

    assertThat(fitted.getFirst().content()).isEqualTo("You are terse.");
    assertThat(fitted.get(1).role()).isEqualTo(Role.SYSTEM);
    assertThat(fitted.get(1).content()).startsWith(ContextWindow.SUMMARY_HEAD);
    assertThat(fitted.getLast()).isEqualTo(user("And now?"));
    int tokens = fitted.stream().mapToInt(t -> ContextWindow.estimate(t.content())).sum();
    assertThat(tokens).isLessThanOrEqualTo(2000);
    // The newest turns are whole, in order; the oldest only summarized, if at all.
    assertThat(fitted.get(fitted.size() - 2)).isEqualTo(turns.get(turns.size() - 2));
    assertThat(fitted.get(1).content()).doesNotContain("question0 question0 question0");
  }

  @Test
  void theSummaryKeepsTheNewestOfTheOlderTurnsWhenItMustDropSome() {
    List<ChatMessage> fitted = new ContextWindow(1500).fit(conversation(60, 150));

    String summary = fitted.get(1).content();
    assertThat(summary).contains("- User: question").contains("- Assistant: answer");
    assertThat(summary).doesNotContain("question0 ");
    assertThat(ContextWindow.estimate(summary)).isLessThanOrEqualTo(1500 / 4 + 1);
  }

  @Test
  void theLastQuestionIsAlwaysKeptEvenOverBudget() {
    String huge = "word ".repeat(10_000);
    List<ChatMessage> turns = List.of(user("old question"), assistant("old answer"), user(huge));

    List<ChatMessage> fitted = new ContextWindow(100).fit(turns);

    assertThat(fitted.getLast()).isEqualTo(user(huge));
    assertThat(fitted.getFirst().content()).startsWith(ContextWindow.SUMMARY_HEAD);
  }
}
