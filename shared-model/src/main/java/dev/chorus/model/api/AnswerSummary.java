package dev.chorus.model.api;

import java.util.List;

/**
 * A short digest of one agent's answer: a summary of at most 50 words, a reasoning line of at most
 * 20 words on how the answer ranked, and a few key points.
 */
public record AnswerSummary(
    String agent, String summary, String reasoning, List<String> keyPoints) {

  public static final int MAX_SUMMARY_WORDS = 50;
  public static final int MAX_REASONING_WORDS = 20;
  public static final int MAX_KEY_POINTS = 5;
}
