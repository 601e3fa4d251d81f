package dev.chorus.api.auth;

import java.util.Set;
import java.util.UUID;

/**
 * The bearer token a request came with (kept as the authentication's details, next to the {@link
 * CurrentUser} principal).
 *
 * @param kind {@code session} (register/login) or {@code personal} (created for scripts)
 * @param scopes {@code read} and/or {@code write}
 */
public record AccessToken(UUID id, String kind, Set<String> scopes) {
  public static final String SESSION = "session";
  public static final String PERSONAL = "personal";
  public static final String READ = "read";
  public static final String WRITE = "write";

  public boolean isSession() {
    return SESSION.equals(kind);
  }

  public boolean canWrite() {
    return scopes.contains(WRITE);
  }
}
