package dev.chorus.api.common;

import java.net.URI;
import java.util.List;
import java.util.Map;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.lang.Nullable;
import org.springframework.validation.FieldError;
import org.springframework.web.bind.MethodArgumentNotValidException;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;
import org.springframework.web.context.request.WebRequest;
import org.springframework.web.servlet.mvc.method.annotation.ResponseEntityExceptionHandler;

/** The one error shape: RFC 9457 problem+json, with {@code errors[]} for field problems. */
@RestControllerAdvice
public class Problems extends ResponseEntityExceptionHandler {
  public static final String TYPE_BASE = "https://chorus.dev/problems/";

  public static ProblemDetail problem(HttpStatusCode status, String type, String detail) {
    ProblemDetail problem = ProblemDetail.forStatusAndDetail(status, detail);
    problem.setType(URI.create(TYPE_BASE + type));
    return problem;
  }

  @ExceptionHandler(NotFoundException.class)
  ProblemDetail notFound(NotFoundException e) {
    return problem(HttpStatus.NOT_FOUND, "not-found", e.getMessage());
  }

  @ExceptionHandler(InvalidFieldsException.class)
  ProblemDetail invalidFields(InvalidFieldsException e) {
    ProblemDetail problem = problem(HttpStatus.BAD_REQUEST, "validation", e.getMessage());
    problem.setProperty("errors", e.errors());
    return problem;
  }

  @ExceptionHandler(ApiException.class)
  ProblemDetail api(ApiException e) {
    return problem(e.status(), e.type(), e.getMessage());
  }

  @Override
  protected @Nullable ResponseEntity<Object> handleMethodArgumentNotValid(
      MethodArgumentNotValidException ex,
      HttpHeaders headers,
      HttpStatusCode status,
      WebRequest request) {
    ProblemDetail problem =
        problem(HttpStatus.BAD_REQUEST, "validation", "the request has invalid fields");
    List<Map<String, String>> errors =
        ex.getBindingResult().getFieldErrors().stream()
            .map((FieldError f) ->
                Map.of(
                    "field",
                    f.getField(),
                    "message",
                    f.getDefaultMessage() == null ? "is invalid" : f.getDefaultMessage()))
            .toList();
    problem.setProperty("errors", errors);
    return ResponseEntity.badRequest().body(problem);
  }
}
