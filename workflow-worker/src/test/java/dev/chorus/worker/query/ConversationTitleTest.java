package dev.chorus.worker.query;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ConversationTitleTest {
  @Test
  void takesTheFirstNonEmptyLineWithoutMarkdownMarks() {
    assertThat(ConversationTitle.from("\n\n> ## Why is   the sky blue?\nbecause"))
        .isEqualTo("Why is the sky blue?");
  }

  @Test
  void cutsALongLineAtAWordBoundary() {
    String title =
        ConversationTitle.from(
            "Explain the difference between optimistic and pessimistic locking in PostgreSQL please");
    assertThat(title).hasSizeLessThanOrEqualTo(ConversationTitle.MAX).endsWith("…");
    assertThat(title).isEqualTo("Explain the difference between optimistic and pessimistic…");
  }

  @Test
  void aWordLongerThanTheLimitIsCut() {
    assertThat(ConversationTitle.from("x".repeat(100))).hasSize(ConversationTitle.MAX);
  }

  @Test
  void blankGivesEmpty() {
    assertThat(ConversationTitle.from(" \n\t")).isEmpty();
    assertThat(ConversationTitle.from(null)).isEmpty();
  }
}
