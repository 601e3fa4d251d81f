package dev.chorus.api.common;

import java.io.IOException;

/**
 * A request body went past {@code chorus.http.max-body-bytes}. An {@link IOException}, so it
 * surfaces from whatever reads the body (a message converter or a controller reading the stream).
 */
public class BodyTooLargeException extends IOException {
  private final long limit;

  public BodyTooLargeException(long limit) {
    super("the request body must be at most " + limit + " bytes", null);
    this.limit = limit;
  }

  public long limit() {
    return limit;
  }
}
