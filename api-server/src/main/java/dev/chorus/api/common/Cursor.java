package dev.chorus.api.common;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;
import java.util.UUID;
import org.springframework.http.HttpStatus;

/** An opaque keyset cursor: the (timestamp, id) of the last row of the previous page. */
public record Cursor(Instant at, UUID id) {
  public static final int DEFAULT_LIMIT = 50;
  public static final int MAX_LIMIT = 200;

  public String encode() {
    return Base64.getUrlEncoder()
        .withoutPadding()
        .encodeToString((at + "|" + id).getBytes(StandardCharsets.UTF_8));
  }

  public static Cursor decode(String value) {
    try {
      String[] parts =
          new String(Base64.getUrlDecoder().decode(value), StandardCharsets.UTF_8).split("\\|", 2);
      return new Cursor(Instant.parse(parts[0]), UUID.fromString(parts[1]));
    } catch (RuntimeException e) {
      throw new ApiException(HttpStatus.BAD_REQUEST, "invalid-cursor", "cursor is not valid");
    }
  }

  public static int limit(Integer requested) {
    if (requested == null) {
      return DEFAULT_LIMIT;
    }
    if (requested < 1 || requested > MAX_LIMIT) {
      throw new ApiException(
          HttpStatus.BAD_REQUEST, "invalid-limit", "limit must be between 1 and " + MAX_LIMIT);
    }
    return requested;
  }
}
