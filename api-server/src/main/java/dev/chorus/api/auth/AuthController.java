package dev.chorus.api.auth;

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
  @ResponseStatus(HttpStatus.CREATED)
  AuthDtos.TokenResponse register(@Valid @RequestBody AuthDtos.RegisterRequest request) {
    return auth.register(request);
  }

  @PostMapping("/auth/login")
  AuthDtos.TokenResponse login(@Valid @RequestBody AuthDtos.LoginRequest request) {
    return auth.login(request);
  }

  @PostMapping("/auth/logout")
  @ResponseStatus(HttpStatus.NO_CONTENT)
  void logout(HttpServletRequest request) {
    auth.logout(BearerTokenFilter.bearerToken(request));
  }

  @GetMapping("/me")
  AuthDtos.UserView me(@AuthenticationPrincipal CurrentUser user) {
    return auth.me(user.id());
  }
}
