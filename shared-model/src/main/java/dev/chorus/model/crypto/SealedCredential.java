package dev.chorus.model.crypto;

import java.util.Arrays;
import java.util.Objects;

/**
 * An encrypted credential as stored: which master key sealed it, the 96-bit GCM nonce, and the
 * ciphertext with its 128-bit tag appended. Nothing here is secret, but {@link #toString()} still
 * prints only sizes.
 */
public record SealedCredential(String keyId, byte[] nonce, byte[] ciphertext) {
  public SealedCredential {
    Objects.requireNonNull(keyId, "keyId");
    Objects.requireNonNull(nonce, "nonce");
    Objects.requireNonNull(ciphertext, "ciphertext");
    nonce = nonce.clone();
    ciphertext = ciphertext.clone();
  }

  @Override
  public byte[] nonce() {
    return nonce.clone();
  }

  @Override
  public byte[] ciphertext() {
    return ciphertext.clone();
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof SealedCredential s
        && keyId.equals(s.keyId)
        && Arrays.equals(nonce, s.nonce)
        && Arrays.equals(ciphertext, s.ciphertext);
  }

  @Override
  public int hashCode() {
    return Objects.hash(keyId, Arrays.hashCode(nonce), Arrays.hashCode(ciphertext));
  }

  @Override
  public String toString() {
    return "SealedCredential[keyId="
        + keyId
        + ", nonce="
        + nonce.length
        + " bytes, ciphertext="
        + ciphertext.length
        + " bytes]";
  }
}
