package dev.chorus.api.credential;

import java.time.Instant;

/**
 * What the API shows of a stored credential: never the key, only a hint such as {@code sk-…AbCd}.
 *
 * @param keyHint absent when only a base URL is stored
 */
public record CredentialView(
    String provider, String keyHint, String baseUrl, Instant createdAt, Instant updatedAt) {}
