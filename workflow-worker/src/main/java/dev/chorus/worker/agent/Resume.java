package dev.chorus.worker.agent;

import dev.chorus.worker.provider.ChatMessage;
import dev.chorus.worker.provider.ChatProvider;
import java.util.ArrayList;
import java.util.List;

/**
 * How a new attempt picks up an answer an earlier attempt left unfinished: with an assistant
 * prefill where the provider continues one, else with a continuation prompt, and as the last resort
 * (nothing kept, or resuming kept failing) a clean restart. {@code keep} is the text the client
 * keeps ({@code resumeFrom = keep.length()}); the answer is {@code keep} plus what this attempt
 * streams.
 */
record Resume(String keep, String prefill, boolean continuationPrompt, String reason) {
  /** After this many attempts that resumed, the next one starts over. */
  static final int MAX_RESUMING_ATTEMPTS = 3;

  static final String CONTINUE =
      "Your previous reply was cut off. Continue it exactly where it stopped: do not repeat any of"
          + " it, add no preamble, start with the very next characters.";

  static final Resume FRESH = new Resume("", null, false, null);

  static Resume plan(ChatProvider provider, int attempt, String checkpoint) {
    if (checkpoint == null || checkpoint.isBlank()) {
      return restart("the previous attempt left no text to continue");
    }
    if (attempt > MAX_RESUMING_ATTEMPTS + 1) {
      return restart("attempt " + attempt + " starts over after repeated failures");
    }
    if (provider.supportsPrefill()) {
      // A prefill may not end in whitespace (Anthropic rejects it): the continuation brings it
      // back.
      String keep = checkpoint.stripTrailing();
      return keep.isEmpty()
          ? restart("the previous attempt left no text to continue")
          : new Resume(keep, keep, false, "continuing after " + keep.length() + " characters");
    }
    return new Resume(
        checkpoint, null, true, "continuing after " + checkpoint.length() + " characters");
  }

  private static Resume restart(String reason) {
    return new Resume("", null, false, reason);
  }

  /** The conversation to send: with the continuation turns when this attempt needs them. */
  List<ChatMessage> messages(List<ChatMessage> history) {
    if (!continuationPrompt) {
      return history;
    }
    List<ChatMessage> out = new ArrayList<>(history);
    out.add(new ChatMessage(ChatMessage.Role.ASSISTANT, keep));
    out.add(new ChatMessage(ChatMessage.Role.USER, CONTINUE));
    return out;
  }
}
