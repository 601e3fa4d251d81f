package dev.chorus.api.auth;

/** A valid bearer token: whose it is, and what it may do. */
public record Authenticated(CurrentUser user, AccessToken token) {}
