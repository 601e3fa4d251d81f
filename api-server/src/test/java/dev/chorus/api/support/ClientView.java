package dev.chorus.api.support;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;

/** What a client makes of a query's events, by the rule at the end of API.md. */
public final class ClientView {
  private ClientView() {}

  /**
   * One agent's text as a client shows it: its deltas in order, cut back to {@code resumeFrom} on
   * every {@code response_retrying}.
   */
  public static String assembled(List<JsonNode> events, String agent) {
    StringBuilder text = new StringBuilder();
    for (JsonNode e : events) {
      if (e.path("agent").asText().equals(agent)) {
        switch (e.path("type").asText()) {
          case "delta" -> text.append(e.path("text").asText());
          case "response_retrying" -> text.setLength(e.path("resumeFrom").asInt());
          default -> {}
        }
      }
    }
    return text.toString();
  }

  /** The first event of {@code type} (of {@code agent}, unless null). */
  public static JsonNode first(List<JsonNode> events, String type, String agent) {
    return events.stream()
        .filter(e -> e.path("type").asText().equals(type))
        .filter(e -> agent == null || e.path("agent").asText().equals(agent))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no " + type + " of " + agent + " in " + events));
  }
}
