package dev.chorus.model.api;

public enum ResponseStatus {
  PENDING,
  STREAMING,
  RETRYING,
  COMPLETED,
  FAILED,
  CANCELLED
}
