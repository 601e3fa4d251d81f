package dev.chorus.api.credential;

import dev.chorus.api.auth.CurrentUser;
import dev.chorus.api.common.Page;
import dev.chorus.api.common.Problems;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.ExampleObject;
import io.swagger.v3.oas.annotations.media.Schema;
import java.io.IOException;
import java.io.InputStream;
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

  /** What the PUT body holds; for the OpenAPI document only (the body is parsed by hand). */
  record CredentialInput(
      @Schema(
              description = "the provider API key; required unless baseUrl is given",
              example = "sk-your-key")
          String apiKey,
      @Schema(
              description = "an own endpoint for the provider (optional)",
              example = "https://llm.example.com/v1")
          String baseUrl) {}

  /**
   * The body is read from the stream, not through a message converter: Spring's debug logs print
   * what a converter read (a byte array too, byte by byte) and what a parse error quotes — here,
   * the key.
   */
  @PutMapping("/{provider}")
  @Operation(summary = "Store your own key (and/or base URL) for a provider")
  @io.swagger.v3.oas.annotations.parameters.RequestBody(
      required = true,
      content =
          @Content(
              mediaType = "application/json",
              schema = @Schema(implementation = CredentialInput.class),
              examples = @ExampleObject(value = "{\"apiKey\": \"sk-your-key\"}")))
  CredentialView put(
      @AuthenticationPrincipal CurrentUser user,
      @PathVariable String provider,
      @Parameter(hidden = true) InputStream body)
      throws IOException {
    byte[] bytes = body.readNBytes(CredentialService.MAX_BODY + 1);
    return credentials.put(user.id(), provider, bytes);
  }

  @GetMapping
  @Operation(summary = "List your provider keys (masked)")
  Page<CredentialView> list(@AuthenticationPrincipal CurrentUser user) {
    return new Page<>(credentials.list(user.id()), null);
  }

  @GetMapping("/{provider}")
  @Operation(summary = "Read your key for a provider (masked)")
  CredentialView get(@AuthenticationPrincipal CurrentUser user, @PathVariable String provider) {
    return credentials.get(user.id(), provider);
  }

  @DeleteMapping("/{provider}")
  @Operation(summary = "Delete your key for a provider")
  @ResponseStatus(HttpStatus.NO_CONTENT)
  void delete(@AuthenticationPrincipal CurrentUser user, @PathVariable String provider) {
    credentials.delete(user.id(), provider);
  }

  @ExceptionHandler(CredentialService.InvalidFields.class)
  ProblemDetail invalid(CredentialService.InvalidFields e) {
    return Problems.invalidFields(
        e.problems().stream().map(p -> new Problems.FieldProblem(p.field(), p.message())).toList());
  }
}
