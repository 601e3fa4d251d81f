package dev.chorus.worker.provider;

import java.util.List;

/**
 * What one provider call asks for.
 *
 * @param messages the conversation, oldest first; SYSTEM turns first when present
 * @param temperature {@code null} for the provider's default
 * @param maxTokens {@code null} for the provider's default (Anthropic requires one: its provider
 *     supplies its configured default)
 * @param prefill text the answer must continue from (an earlier attempt's checkpoint), or {@code
 *     null}; only providers whose {@link ChatProvider#supportsPrefill()} is true receive one, and
 *     their deltas then carry only the continuation
 * @param attempt the activity attempt this call belongs to (1-based); only the mock's failure
 *     injection uses it
 */
public record ChatRequest(
    String model,
    List<ChatMessage> messages,
    Double temperature,
    Integer maxTokens,
    String prefill,
    int attempt) {

  public ChatRequest(
      String model, List<ChatMessage> messages, Double temperature, Integer maxTokens) {
    this(model, messages, temperature, maxTokens, null, 1);
  }

  public ChatRequest(
      String model,
      List<ChatMessage> messages,
      Double temperature,
      Integer maxTokens,
      String prefill) {
    this(model, messages, temperature, maxTokens, prefill, 1);
  }

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
