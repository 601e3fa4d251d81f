package dev.chorus.api.credential;

import dev.chorus.api.auth.CurrentUser;
import dev.chorus.api.common.Page;
import dev.chorus.api.common.Problems;
import java.io.IOException;
import java.io.InputStream;
import java.util.Map;
import org.springframework.http.HttpStatus;
import org.springframework.http.ProblemDetail;
import org.springframework.security.core.annotation.AuthenticationPrincipal;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PutMapping;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.ResponseStatus;
import org.springframework.web.bind.annotation.RestController;

/** The caller's own provider keys: stored sealed, shown masked. */
@RestController
@RequestMapping("/api/me/credentials")
class CredentialController {
  private final CredentialService credentials;

  CredentialController(CredentialService credentials) {
    this.credentials = credentials;
  }

  /**
   * The body is read from the stream, not through a message converter: Spring's debug logs print
   * what a converter read (a byte array too, byte by byte) and what a parse error quotes — here,
   * the key.
   */
  @PutMapping("/{provider}")
  CredentialView put(
      @AuthenticationPrincipal CurrentUser user, @PathVariable String provider, InputStream body)
      throws IOException {
    byte[] bytes = body.readNBytes(CredentialService.MAX_BODY + 1);
    return credentials.put(user.id(), provider, bytes);
  }

  @GetMapping
  Page<CredentialView> list(@AuthenticationPrincipal CurrentUser user) {
    return new Page<>(credentials.list(user.id()), null);
  }

  @GetMapping("/{provider}")
  CredentialView get(@AuthenticationPrincipal CurrentUser user, @PathVariable String provider) {
    return credentials.get(user.id(), provider);
  }

  @DeleteMapping("/{provider}")
  @ResponseStatus(HttpStatus.NO_CONTENT)
  void delete(@AuthenticationPrincipal CurrentUser user, @PathVariable String provider) {
    credentials.delete(user.id(), provider);
  }

  @ExceptionHandler(CredentialService.InvalidFields.class)
  ProblemDetail invalid(CredentialService.InvalidFields e) {
    ProblemDetail problem =
        Problems.problem(HttpStatus.BAD_REQUEST, "validation", "the request has invalid fields");
    problem.setProperty(
        "errors",
        e.problems().stream()
            .map(p -> Map.of("field", p.field(), "message", p.message()))
            .toList());
    return problem;
  }
}
