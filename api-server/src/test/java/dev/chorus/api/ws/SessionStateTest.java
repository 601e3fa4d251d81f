package dev.chorus.api.ws;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class SessionStateTest {
  private static final int LIMIT = 65_536;
  private final SessionState state = new SessionState(new ClientConnection(null, null), "o");

  @Test
  void aMessageInOnePartIsPassedOnAsItIs() throws Exception {
    String text = "{\"type\":\"ping\"}";
    assertThat(state.receive(text, true, LIMIT)).isSameAs(text);
  }

  @Test
  void partsAreAssembledUpToTheLimit() throws Exception {
    String part = "é🎵a".repeat(256); // 1024 UTF-16 units
    for (int parts : new int[] {60, 64}) {
      for (int i = 1; i < parts; i++) {
        assertThat(state.receive(part, false, LIMIT)).isNull();
      }
      String whole = state.receive(part, true, LIMIT);
      assertThat(whole).hasSize(parts * 1024).isEqualTo(part.repeat(parts));
    }
  }

  @Test
  void aMessageOverTheLimitIsRefusedAndTheNextStartsAfresh() throws Exception {
    assertThat(state.receive("x".repeat(LIMIT - 1), false, LIMIT)).isNull();
    assertThatThrownBy(() -> state.receive("xx", false, LIMIT))
        .isInstanceOf(SessionState.MessageTooBig.class)
        .hasMessageContaining("65536");
    assertThatThrownBy(() -> state.receive("x".repeat(LIMIT + 1), true, LIMIT))
        .isInstanceOf(SessionState.MessageTooBig.class);
    assertThat(state.receive("ab", false, LIMIT)).isNull();
    assertThat(state.receive("cd", true, LIMIT)).isEqualTo("abcd");
  }
}
