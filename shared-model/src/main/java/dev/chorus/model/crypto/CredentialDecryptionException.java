package dev.chorus.model.crypto;

/**
 * A stored credential cannot be opened: its master key is no longer configured, or the row was
 * tampered with or copied to another user or provider. The message never contains key material.
 */
public class CredentialDecryptionException extends RuntimeException {
  public CredentialDecryptionException(String message) {
    super(message);
  }

  public CredentialDecryptionException(String message, Throwable cause) {
    super(message, cause);
  }
}
