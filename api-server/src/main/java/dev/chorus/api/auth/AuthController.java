package dev.chorus.api.auth;

import com.fasterxml.jackson.databind.JsonNode;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.ExampleObject;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.validation.Valid;
import java.util.List;
import java.util.UUID;
import org.springframework.http.HttpStatus;
import org.springframework.security.core.Authentication;
import org.springframework.security.core.annotation.AuthenticationPrincipal;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PatchMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.ResponseStatus;
import org.springframework.web.bind.annotation.RestController;

@RestController
@RequestMapping("/api")
class AuthController {
  private final AuthService auth;

  AuthController(AuthService auth) {
    this.auth = auth;
  }

  @PostMapping("/auth/register")
  @Operation(summary = "Create an account and get a token")
  @io.swagger.v3.oas.annotations.parameters.RequestBody(
      content =
          @Content(
              examples =
                  @ExampleObject(
                      value =
                          "{\"email\": \"ada@example.com\", \"password\": \"correct horse battery\", \"displayName\": \"Ada\"}")))
  @ResponseStatus(HttpStatus.CREATED)
  AuthDtos.TokenResponse register(@Valid @RequestBody AuthDtos.RegisterRequest request) {
    return auth.register(request);
  }

  @PostMapping("/auth/login")
  @Operation(summary = "Log in and get a token")
  @io.swagger.v3.oas.annotations.parameters.RequestBody(
      content =
          @Content(
              examples =
                  @ExampleObject(
                      value =
                          "{\"email\": \"ada@example.com\", \"password\": \"correct horse battery\"}")))
  AuthDtos.TokenResponse login(
      @Valid @RequestBody AuthDtos.LoginRequest request, HttpServletRequest http) {
    return auth.login(request, http.getRemoteAddr());
  }

  @PostMapping("/auth/logout")
  @Operation(summary = "Revoke the token of this request")
  @ResponseStatus(HttpStatus.NO_CONTENT)
  void logout(HttpServletRequest request) {
    auth.logout(BearerTokenFilter.bearerToken(request));
  }

  @GetMapping("/me")
  @Operation(summary = "The current user")
  AuthDtos.UserView me(@AuthenticationPrincipal CurrentUser user) {
    return auth.me(user.id());
  }

  @PatchMapping("/me")
  AuthDtos.UserView updateMe(
      @AuthenticationPrincipal CurrentUser user, @RequestBody JsonNode patch) {
    return auth.updateMe(user.id(), patch);
  }

  @PostMapping("/me/password")
  @ResponseStatus(HttpStatus.NO_CONTENT)
  void changePassword(
      Authentication authentication, @Valid @RequestBody AuthDtos.ChangePasswordRequest request) {
    auth.changePassword(user(authentication), token(authentication), request);
  }

  @DeleteMapping("/me")
  @ResponseStatus(HttpStatus.NO_CONTENT)
  void deleteAccount(
      Authentication authentication, @Valid @RequestBody AuthDtos.DeleteAccountRequest request) {
    auth.deleteAccount(user(authentication), token(authentication), request);
  }

  @PostMapping("/tokens")
  @ResponseStatus(HttpStatus.CREATED)
  AuthDtos.CreatedToken createToken(
      Authentication authentication, @Valid @RequestBody AuthDtos.CreateTokenRequest request) {
    return auth.createToken(user(authentication), token(authentication), request);
  }

  @GetMapping("/tokens")
  TokenList tokens(@AuthenticationPrincipal CurrentUser user) {
    return new TokenList(auth.tokens(user.id()));
  }

  @DeleteMapping("/tokens/{id}")
  @ResponseStatus(HttpStatus.NO_CONTENT)
  void deleteToken(Authentication authentication, @PathVariable UUID id) {
    auth.deleteToken(user(authentication), token(authentication), id);
  }

  @GetMapping("/auth/sessions")
  SessionList sessions(Authentication authentication) {
    return new SessionList(auth.sessions(user(authentication).id(), token(authentication)));
  }

  @DeleteMapping("/auth/sessions/{id}")
  @ResponseStatus(HttpStatus.NO_CONTENT)
  void deleteSession(Authentication authentication, @PathVariable UUID id) {
    auth.deleteSession(user(authentication), token(authentication), id);
  }

  /** "Sign out everywhere else". */
  @DeleteMapping("/auth/sessions")
  @ResponseStatus(HttpStatus.NO_CONTENT)
  void deleteOtherSessions(Authentication authentication) {
    auth.deleteOtherSessions(user(authentication), token(authentication));
  }

  /** The newest 200 live sessions: one page, no cursor. */
  record SessionList(List<AuthDtos.SessionView> items) {}

  /** Every live token fits on one page (there are at most 50), so there is no cursor. */
  record TokenList(List<AuthDtos.TokenView> items) {}

  private static CurrentUser user(Authentication authentication) {
    return (CurrentUser) authentication.getPrincipal();
  }

  private static AccessToken token(Authentication authentication) {
    return authentication.getDetails() instanceof AccessToken t ? t : null;
  }
}
