package dev.chorus.model.api;

public enum QueryStatus {
  PENDING,
  RUNNING,
  COMPLETED,
  PARTIAL,
  FAILED,
  CANCELLED;

  public boolean isFinal() {
    return this != PENDING && this != RUNNING;
  }
}
