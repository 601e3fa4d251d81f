package dev.chorus.worker.provider;

/** One turn of the conversation as sent to a provider. */
public record ChatMessage(Role role, String content) {
  public enum Role {
    SYSTEM,
    USER,
    ASSISTANT
  }
}
