package dev.chorus.model.api;

import com.fasterxml.jackson.annotation.JsonValue;

public enum MessageRole {
  USER,
  ASSISTANT;

  @JsonValue
  public String wire() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }
}
