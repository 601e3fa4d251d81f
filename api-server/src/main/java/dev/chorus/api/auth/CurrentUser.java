package dev.chorus.api.auth;

import java.util.UUID;

/** The authenticated caller, resolved from a bearer token. */
public record CurrentUser(UUID id, String email, String displayName) {}
