package dev.chorus.worker.provider;

import java.util.List;

public record ChatRequest(
    String model, List<ChatMessage> messages, Double temperature, Integer maxTokens) {

  /** The last user turn: what the user asked now. */
  public String prompt() {
    for (int i = messages.size() - 1; i >= 0; i--) {
      if (messages.get(i).role() == ChatMessage.Role.USER) {
        return messages.get(i).content();
      }
    }
    return "";
  }
}
