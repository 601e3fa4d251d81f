package dev.chorus.worker.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.chorus.model.agent.AgentSpec;
import dev.chorus.model.workflow.AgentTask;
import dev.chorus.worker.provider.ChatMessage;
import dev.chorus.worker.provider.ChatMessage.Role;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class DebatePromptTest {
  private static final List<ChatMessage> CONTEXT =
      List.of(
          new ChatMessage(Role.SYSTEM, "Be brief."),
          new ChatMessage(Role.USER, "Earlier question"),
          new ChatMessage(Role.ASSISTANT, "Earlier answer"),
          new ChatMessage(Role.USER, "Which database?"));

  private static AgentTask task(String name, AgentTask.Debate debate) {
    return new AgentTask(
        UUID.randomUUID(),
        UUID.randomUUID(),
        UUID.randomUUID(),
        new AgentSpec("mock", "m", name, null, null, null),
        UUID.randomUUID(),
        null,
        debate);
  }

  @Test
  void aRevisionShowsTheOthersInOrderThenItsOwnAnswerThenTheInstruction() {
    var debate =
        new AgentTask.Debate(
            3, "b", "b · round 2", List.of("a · round 2", "b · round 2", "c · round 2"), false);
    List<ChatMessage> turns =
        DebatePrompt.build(
            task("b · round 3", debate),
            CONTEXT,
            Map.of(
                "a · round 2", "Postgres.",
                "b · round 2", "SQLite.",
                "c · round 2", "MySQL."));

    // The conversation stays as it was, up to the question, which gets the debate appended.
    assertThat(turns).hasSize(4);
    assertThat(turns.subList(0, 3)).isEqualTo(CONTEXT.subList(0, 3));
    ChatMessage last = turns.getLast();
    assertThat(last.role()).isEqualTo(Role.USER);
    String text = last.content();
    assertThat(text).startsWith("Which database?\n\n---\nOther agents answered:\n");
    assertThat(text).contains("[a]: Postgres.").contains("[c]: MySQL.");
    assertThat(text.indexOf("[a]: Postgres.")).isLessThan(text.indexOf("[c]: MySQL."));
    assertThat(text).doesNotContain("[b]").doesNotContain("round 2");
    assertThat(text.indexOf("Your previous answer:\nSQLite.")).isGreaterThan(text.indexOf("[c]"));
    assertThat(text).endsWith(DebatePrompt.REVISE);
  }

  @Test
  void theSynthesisShowsEveryAnswerAndAsksForOne() {
    var debate =
        new AgentTask.Debate(2, "synthesis", null, List.of("b · round 2", "a · round 2"), true);
    List<ChatMessage> turns =
        DebatePrompt.build(
            task("synthesis", debate),
            List.of(new ChatMessage(Role.USER, "Which database?")),
            Map.of("a · round 2", "Postgres.", "b · round 2", "SQLite."));

    String text = turns.getLast().content();
    assertThat(text.indexOf("[b]: SQLite."))
        .isPositive()
        .isLessThan(text.indexOf("[a]: Postgres."));
    assertThat(text).doesNotContain("Your previous answer");
    assertThat(text).endsWith(DebatePrompt.SYNTHESIZE);
  }

  @Test
  void longAnswersAreClippedAndMissingOnesLeftOut() {
    String longAnswer = "x".repeat(DebatePrompt.MAX_ANSWER_CHARS + 500);
    var debate = new AgentTask.Debate(2, "a", "a", List.of("a", "b", "gone"), false);
    String text =
        DebatePrompt.build(
                task("a · round 2", debate), CONTEXT, Map.of("a", "mine", "b", longAnswer))
            .getLast()
            .content();

    assertThat(text)
        .contains("[b]: " + "x".repeat(DebatePrompt.MAX_ANSWER_CHARS - 1) + "…\n")
        .doesNotContain("x".repeat(DebatePrompt.MAX_ANSWER_CHARS))
        .doesNotContain("[gone]");
    assertThat(DebatePrompt.clip("short")).isEqualTo("short");
    assertThat(DebatePrompt.clip(longAnswer)).hasSize(DebatePrompt.MAX_ANSWER_CHARS);
    // A surrogate pair at the cut is not split.
    String emoji = "y".repeat(DebatePrompt.MAX_ANSWER_CHARS - 2) + "😀" + "zzz";
    assertThat(DebatePrompt.clip(emoji)).endsWith("y…");
  }

  @Test
  void withoutAUserTurnAtTheEndTheDebateIsItsOwnTurn() {
    var debate = new AgentTask.Debate(2, "a", "a", List.of("a", "b"), false);
    List<ChatMessage> turns =
        DebatePrompt.build(task("a · round 2", debate), List.of(), Map.of("a", "1", "b", "2"));
    assertThat(turns).singleElement().extracting(ChatMessage::role).isEqualTo(Role.USER);
  }
}
