package dev.chorus.api.common;

/** Thrown for a missing object and, equally, for another user's object: no existence leak. */
public class NotFoundException extends RuntimeException {
  public NotFoundException(String what) {
    super(what + " not found");
  }
}
