package dev.chorus.worker.credential;

import dev.chorus.model.crypto.CredentialCipher;

/**
 * A user's own key (and optional base URL) for one provider, decrypted for one call. Never log it:
 * {@link #toString()} masks the key, but the key itself is plaintext.
 *
 * @param apiKey null when the user stored only a base URL
 * @param baseUrl null to use the provider's configured endpoint; otherwise reach it only through
 *     {@link UserEndpointClients}
 */
public record UserCredential(String provider, String apiKey, String baseUrl) {
  @Override
  public String toString() {
    return "UserCredential[provider="
        + provider
        + ", apiKey="
        + CredentialCipher.mask(apiKey)
        + ", baseUrl="
        + baseUrl
        + "]";
  }
}
