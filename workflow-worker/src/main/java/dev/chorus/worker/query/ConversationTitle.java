package dev.chorus.worker.query;

/**
 * A conversation title made from its first user message: the first non-empty line, whitespace
 * collapsed, markdown heading and quote marks dropped, cut at a word boundary to {@value #MAX}
 * characters with an ellipsis. Local and deterministic: no model call, so it costs nothing.
 */
final class ConversationTitle {
  static final int MAX = 60;

  private ConversationTitle() {}

  static String from(String message) {
    if (message == null) {
      return "";
    }
    String line = "";
    for (String candidate : message.split("\\R")) {
      String cleaned = candidate.replaceAll("^[#>*\\-\\s]+", "").strip();
      if (!cleaned.isEmpty()) {
        line = cleaned;
        break;
      }
    }
    line = line.replaceAll("\\s+", " ");
    if (line.length() <= MAX) {
      return line;
    }
    int cut = line.lastIndexOf(' ', MAX - 1);
    if (cut < MAX / 2) {
      cut = MAX - 1;
    }
    return line.substring(0, cut).strip() + "…";
  }
}
