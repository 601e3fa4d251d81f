package dev.chorus.api.auth;

import com.fasterxml.jackson.databind.JsonNode;
import jakarta.validation.constraints.Email;
import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.Size;
import java.time.Instant;
import java.util.List;
import java.util.UUID;

/** Request and response bodies of the account and token routes. */
public final class AuthDtos {
  private AuthDtos() {}

  public static final int MIN_PASSWORD = 8;
  public static final int MAX_PASSWORD = 200;

  public record RegisterRequest(
      @NotBlank @Email @Size(max = 254) String email,
      @NotBlank @Size(min = MIN_PASSWORD, max = MAX_PASSWORD) String password,
      @Size(max = 100) String displayName) {
    // Spring logs bound bodies at TRACE: never with the password.
    @Override
    public String toString() {
      return "RegisterRequest[email=" + email + ", password=***, displayName=" + displayName + "]";
    }
  }

  public record LoginRequest(
      @NotBlank @Size(max = 254) String email,
      @NotBlank @Size(max = MAX_PASSWORD) String password) {
    @Override
    public String toString() {
      return "LoginRequest[email=" + email + ", password=***]";
    }
  }

  public record ChangePasswordRequest(
      @NotBlank @Size(max = MAX_PASSWORD) String currentPassword,
      @NotBlank @Size(min = MIN_PASSWORD, max = MAX_PASSWORD) String newPassword) {
    @Override
    public String toString() {
      return "ChangePasswordRequest[***]";
    }
  }

  public record DeleteAccountRequest(@NotBlank @Size(max = MAX_PASSWORD) String password) {
    @Override
    public String toString() {
      return "DeleteAccountRequest[***]";
    }
  }

  public record UserView(UUID id, String email, String displayName, JsonNode preferences) {}

  public record TokenResponse(String token, Instant expiresAt, UserView user) {
    @Override
    public String toString() {
      return "TokenResponse[token=***, expiresAt=" + expiresAt + ", user=" + user + "]";
    }
  }

  /**
   * @param expiresInDays null for a token that never expires
   * @param scopes {@code read} and/or {@code write}; both when absent
   */
  public record CreateTokenRequest(
      @NotBlank @Size(max = 100) String name,
      @Min(1) @Max(3650) Integer expiresInDays,
      @Size(min = 1, max = 2) List<@NotBlank String> scopes) {}

  /** A personal access token as listed: never its secret. */
  public record TokenView(
      UUID id,
      String name,
      List<String> scopes,
      Instant createdAt,
      Instant expiresAt,
      Instant lastUsedAt) {}

  /** A signed-in session (a login on some device); never its secret. */
  public record SessionView(
      UUID id, Instant createdAt, Instant expiresAt, Instant lastUsedAt, boolean current) {}

  /** The answer to creating a token: the only time its secret is shown. */
  public record CreatedToken(
      UUID id,
      String name,
      String token,
      List<String> scopes,
      Instant createdAt,
      Instant expiresAt) {
    @Override
    public String toString() {
      return "CreatedToken[id=" + id + ", name=" + name + ", token=***]";
    }
  }
}
