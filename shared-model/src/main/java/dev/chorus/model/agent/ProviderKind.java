package dev.chorus.model.agent;

import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Arrays;

/** The wire protocols Chorus speaks. Several providers may share a kind (named endpoints). */
public enum ProviderKind {
  MOCK("mock"),
  OPENAI("openai"),
  OPENAI_COMPATIBLE("openai-compatible"),
  ANTHROPIC("anthropic"),
  OLLAMA("ollama"),
  GEMINI("gemini");

  private final String id;

  ProviderKind(String id) {
    this.id = id;
  }

  @JsonValue
  public String id() {
    return id;
  }

  public static ProviderKind fromId(String id) {
    return Arrays.stream(values())
        .filter(k -> k.id.equals(id))
        .findFirst()
        .orElseThrow(() -> new IllegalArgumentException("unknown provider kind: " + id));
  }
}
