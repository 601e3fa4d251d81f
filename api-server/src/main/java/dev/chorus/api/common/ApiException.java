package dev.chorus.api.common;

import org.springframework.http.HttpStatus;

/** A client error with a stable problem type and a human-readable detail. */
public class ApiException extends RuntimeException {
  private final HttpStatus status;
  private final String type;

  public ApiException(HttpStatus status, String type, String detail) {
    super(detail);
    this.status = status;
    this.type = type;
  }

  public HttpStatus status() {
    return status;
  }

  public String type() {
    return type;
  }
}
