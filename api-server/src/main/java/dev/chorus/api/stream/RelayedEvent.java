package dev.chorus.api.stream;

import java.util.UUID;

/**
 * A query event ready for the wire: {@code json} already carries the stream entry id as {@code id}.
 *
 * @param last true for {@code query_completed}, after which the stream gets no more events
 */
public record RelayedEvent(
    UUID queryId, UUID conversationId, String id, String json, boolean last) {

  private static final String TYPE_FIELD = "\"type\":\"";
  private static final String LAST_TYPE = "{\"type\":\"query_completed\"";

  public static RelayedEvent of(UUID queryId, UUID conversationId, String id, String stored) {
    // Stored events are JSON objects written by Jackson with "type" first; prepend the id.
    String wire = "{\"id\":\"" + id + "\"," + stored.substring(1);
    return new RelayedEvent(queryId, conversationId, id, wire, stored.startsWith(LAST_TYPE));
  }

  /** The event's {@code type} (stored events carry it first, right after the id). */
  public String type() {
    int start = json.indexOf(TYPE_FIELD) + TYPE_FIELD.length();
    return json.substring(start, json.indexOf('"', start));
  }

  /** Orders Redis stream ids ("millis-seq"); null sorts first. */
  public static int compareIds(String a, String b) {
    if (a == null || b == null) {
      return a == null ? (b == null ? 0 : -1) : 1;
    }
    int da = a.indexOf('-');
    int db = b.indexOf('-');
    int c = Long.compare(Long.parseLong(a.substring(0, da)), Long.parseLong(b.substring(0, db)));
    return c != 0
        ? c
        : Long.compare(Long.parseLong(a.substring(da + 1)), Long.parseLong(b.substring(db + 1)));
  }

  /** The time part of a stream id: when the event was added (milliseconds since the epoch). */
  public static java.time.Instant timeOf(String id) {
    return java.time.Instant.ofEpochMilli(Long.parseLong(id.substring(0, id.indexOf('-'))));
  }

  /** True for a well-formed stream id a client may pass as a cursor. */
  public static boolean isValidId(String id) {
    return id != null && id.matches("\\d{1,19}-\\d{1,19}");
  }
}
