package dev.chorus.api.auth;

import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.ExampleObject;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.validation.Valid;
import org.springframework.http.HttpStatus;
import org.springframework.security.core.annotation.AuthenticationPrincipal;
import org.springframework.web.bind.annotation.GetMapping;
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
  AuthDtos.TokenResponse login(@Valid @RequestBody AuthDtos.LoginRequest request) {
    return auth.login(request);
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
}
