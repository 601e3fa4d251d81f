package dev.chorus.api.auth;

import com.fasterxml.jackson.databind.JsonNode;
import jakarta.validation.constraints.Email;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.Size;
import java.time.Instant;
import java.util.UUID;

/** Request and response bodies of the auth routes. */
public final class AuthDtos {
  private AuthDtos() {}

  public record RegisterRequest(
      @NotBlank @Email @Size(max = 254) String email,
      @NotBlank @Size(min = 8, max = 200) String password,
      @Size(max = 100) String displayName) {
    // Spring logs bound bodies at TRACE: never with the password.
    @Override
    public String toString() {
      return "RegisterRequest[email=" + email + ", password=***, displayName=" + displayName + "]";
    }
  }

  public record LoginRequest(@NotBlank String email, @NotBlank String password) {
    @Override
    public String toString() {
      return "LoginRequest[email=" + email + ", password=***]";
    }
  }

  public record UserView(UUID id, String email, String displayName, JsonNode preferences) {}

  public record TokenResponse(String token, Instant expiresAt, UserView user) {
    @Override
    public String toString() {
      return "TokenResponse[token=***, expiresAt=" + expiresAt + ", user=" + user + "]";
    }
  }
}
