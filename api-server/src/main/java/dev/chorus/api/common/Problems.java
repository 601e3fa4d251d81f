package dev.chorus.api.common;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import java.net.URI;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.MessageSourceResolvable;
import org.springframework.dao.DataIntegrityViolationException;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.http.converter.HttpMessageNotReadableException;
import org.springframework.lang.Nullable;
import org.springframework.validation.FieldError;
import org.springframework.web.ErrorResponse;
import org.springframework.web.bind.MethodArgumentNotValidException;
import org.springframework.web.bind.MissingRequestHeaderException;
import org.springframework.web.bind.MissingServletRequestParameterException;
import org.springframework.web.bind.ServletRequestBindingException;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;
import org.springframework.web.context.request.WebRequest;
import org.springframework.web.method.annotation.HandlerMethodValidationException;
import org.springframework.web.method.annotation.MethodArgumentTypeMismatchException;
import org.springframework.web.servlet.mvc.method.annotation.ResponseEntityExceptionHandler;
import org.springframework.web.servlet.resource.NoResourceFoundException;

/**
 * The one error shape: RFC 9457 problem+json with a {@code type} under {@link #TYPE_BASE}, and
 * {@code errors[]} of {@code {field, message}} for field problems. Messages are written here, never
 * copied from a parser: those may quote the input (a key, a password).
 */
@RestControllerAdvice
public class Problems extends ResponseEntityExceptionHandler {
  public static final String TYPE_BASE = "https://chorus.dev/problems/";
  static final String NUL_MESSAGE = "must not contain NUL (\\u0000) characters";
  private static final Logger log = LoggerFactory.getLogger(Problems.class);

  /** One invalid field of a request. */
  public record FieldProblem(String field, String message) {}

  public static ProblemDetail problem(HttpStatusCode status, String type, String detail) {
    ProblemDetail problem = ProblemDetail.forStatusAndDetail(status, detail);
    problem.setType(URI.create(TYPE_BASE + type));
    return problem;
  }

  /** A 400 {@code validation} problem listing the invalid fields. */
  public static ProblemDetail invalidFields(List<FieldProblem> errors) {
    ProblemDetail problem =
        problem(HttpStatus.BAD_REQUEST, "validation", "the request has invalid fields");
    problem.setProperty(
        "errors",
        errors.stream().map(e -> Map.of("field", e.field(), "message", e.message())).toList());
    return problem;
  }

  @ExceptionHandler(NotFoundException.class)
  ProblemDetail notFound(NotFoundException e) {
    return problem(HttpStatus.NOT_FOUND, "not-found", e.getMessage());
  }

  @ExceptionHandler(ApiException.class)
  ProblemDetail api(ApiException e) {
    return problem(e.status(), e.type(), e.getMessage());
  }

  @ExceptionHandler(InvalidFieldsException.class)
  ProblemDetail invalid(InvalidFieldsException e) {
    return invalidFields(e.problems());
  }

  @ExceptionHandler(BodyTooLargeException.class)
  ProblemDetail tooLarge(BodyTooLargeException e) {
    return problem(HttpStatus.PAYLOAD_TOO_LARGE, "body-too-large", e.getMessage());
  }

  /**
   * Text that reached PostgreSQL with a NUL (a query parameter; bodies are refused while read): the
   * statement failed, so nothing was written.
   */
  @ExceptionHandler(DataIntegrityViolationException.class)
  ProblemDetail integrity(DataIntegrityViolationException e) {
    Throwable root = e.getMostSpecificCause();
    if (root.getMessage() != null && root.getMessage().contains("0x00")) {
      return problem(HttpStatus.BAD_REQUEST, "invalid-text", "text " + NUL_MESSAGE);
    }
    return unexpected(e);
  }

  /** The last resort: a bug. The client gets a problem without internals; the log gets all. */
  @ExceptionHandler(Exception.class)
  ProblemDetail unexpected(Exception e) {
    String id = UUID.randomUUID().toString();
    log.error("unhandled error {}", id, e);
    ProblemDetail problem =
        problem(
            HttpStatus.INTERNAL_SERVER_ERROR,
            "internal",
            "the server failed to handle this request (error id " + id + ")");
    problem.setProperty("errorId", id);
    return problem;
  }

  @Override
  protected @Nullable ResponseEntity<Object> handleMethodArgumentNotValid(
      MethodArgumentNotValidException ex,
      HttpHeaders headers,
      HttpStatusCode status,
      WebRequest request) {
    List<FieldProblem> errors =
        ex.getBindingResult().getFieldErrors().stream()
            .map((FieldError f) -> new FieldProblem(f.getField(), messageOf(f)))
            .toList();
    return ResponseEntity.badRequest().body(invalidFields(errors));
  }

  @Override
  protected @Nullable ResponseEntity<Object> handleHandlerMethodValidationException(
      HandlerMethodValidationException ex,
      HttpHeaders headers,
      HttpStatusCode status,
      WebRequest request) {
    List<FieldProblem> errors =
        ex.getParameterValidationResults().stream()
            .flatMap(r ->
                r.getResolvableErrors().stream()
                    .map(e ->
                        new FieldProblem(r.getMethodParameter().getParameterName(), messageOf(e))))
            .toList();
    return ResponseEntity.badRequest().body(invalidFields(errors));
  }

  @Override
  protected @Nullable ResponseEntity<Object> handleTypeMismatch(
      org.springframework.beans.TypeMismatchException ex,
      HttpHeaders headers,
      HttpStatusCode status,
      WebRequest request) {
    String field =
        ex instanceof MethodArgumentTypeMismatchException m ? m.getName() : ex.getPropertyName();
    Class<?> required = ex.getRequiredType();
    return ResponseEntity.badRequest()
        .body(
            invalidFields(
                List.of(new FieldProblem(field == null ? "?" : field, mustBe(required)))));
  }

  @Override
  protected @Nullable ResponseEntity<Object> handleMissingServletRequestParameter(
      MissingServletRequestParameterException ex,
      HttpHeaders headers,
      HttpStatusCode status,
      WebRequest request) {
    return ResponseEntity.badRequest()
        .body(invalidFields(List.of(new FieldProblem(ex.getParameterName(), "is required"))));
  }

  @Override
  protected @Nullable ResponseEntity<Object> handleServletRequestBindingException(
      ServletRequestBindingException ex,
      HttpHeaders headers,
      HttpStatusCode status,
      WebRequest request) {
    if (ex instanceof MissingRequestHeaderException missing) {
      return ResponseEntity.badRequest()
          .body(invalidFields(List.of(new FieldProblem(missing.getHeaderName(), "is required"))));
    }
    return super.handleServletRequestBindingException(ex, headers, status, request);
  }

  @Override
  protected @Nullable ResponseEntity<Object> handleHttpMessageNotReadable(
      HttpMessageNotReadableException ex,
      HttpHeaders headers,
      HttpStatusCode status,
      WebRequest request) {
    Throwable cause = ex.getCause();
    if (cause instanceof BodyTooLargeException tooLarge) {
      return ResponseEntity.status(HttpStatus.PAYLOAD_TOO_LARGE).body(tooLarge(tooLarge));
    }
    if (cause instanceof JsonMappingException mapping
        && mapping.getCause() instanceof BodyTooLargeException tooLarge) {
      return ResponseEntity.status(HttpStatus.PAYLOAD_TOO_LARGE).body(tooLarge(tooLarge));
    }
    if (cause instanceof UnrecognizedPropertyException unknown) {
      return ResponseEntity.badRequest()
          .body(invalidFields(List.of(new FieldProblem(path(unknown), "is not a known field"))));
    }
    if (cause instanceof InvalidFormatException invalid
        && NUL_MESSAGE.equals(invalid.getOriginalMessage())) {
      return ResponseEntity.badRequest()
          .body(invalidFields(List.of(new FieldProblem(path(invalid), NUL_MESSAGE))));
    }
    if (cause instanceof InvalidFormatException invalid) {
      return ResponseEntity.badRequest()
          .body(
              invalidFields(
                  List.of(new FieldProblem(path(invalid), mustBe(invalid.getTargetType())))));
    }
    if (cause instanceof MismatchedInputException mismatched && !mismatched.getPath().isEmpty()) {
      return ResponseEntity.badRequest()
          .body(
              invalidFields(
                  List.of(new FieldProblem(path(mismatched), mustBe(mismatched.getTargetType())))));
    }
    if (cause instanceof JsonMappingException mapping && !mapping.getPath().isEmpty()) {
      // E.g. a record's constructor refused the value: name the field, not the internals.
      return ResponseEntity.badRequest()
          .body(invalidFields(List.of(new FieldProblem(path(mapping), "is invalid"))));
    }
    if (cause instanceof JsonProcessingException) {
      return ResponseEntity.badRequest()
          .body(
              problem(
                  HttpStatus.BAD_REQUEST,
                  "malformed-json",
                  "the request body is not valid JSON of the expected shape"));
    }
    return ResponseEntity.badRequest()
        .body(problem(HttpStatus.BAD_REQUEST, "invalid-body", "a JSON request body is required"));
  }

  @Override
  protected @Nullable ResponseEntity<Object> handleNoResourceFoundException(
      NoResourceFoundException ex, HttpHeaders headers, HttpStatusCode status, WebRequest request) {
    return ResponseEntity.status(HttpStatus.NOT_FOUND)
        .body(
            problem(
                HttpStatus.NOT_FOUND,
                "not-found",
                "no route " + ex.getHttpMethod() + " /" + ex.getResourcePath()));
  }

  /**
   * Everything Spring MVC answers itself (405, 406, 415, unknown route 404, ...) gets a stable
   * {@code type} instead of {@code about:blank}.
   */
  @Override
  protected ResponseEntity<Object> handleExceptionInternal(
      Exception ex,
      @Nullable Object body,
      HttpHeaders headers,
      HttpStatusCode statusCode,
      WebRequest request) {
    if (body == null && ex instanceof ErrorResponse response) {
      body = response.updateAndGetBody(getMessageSource(), java.util.Locale.ROOT);
    }
    if (body instanceof ProblemDetail problem
        && (problem.getType() == null || "about:blank".equals(problem.getType().toString()))) {
      problem.setType(URI.create(TYPE_BASE + slug(statusCode)));
    }
    return super.handleExceptionInternal(ex, body, headers, statusCode, request);
  }

  /** "Not Found" → "not-found": the problem type of a plain HTTP status. */
  public static String slug(HttpStatusCode status) {
    HttpStatus known = HttpStatus.resolve(status.value());
    return known == null
        ? "http-" + status.value()
        : known.getReasonPhrase().toLowerCase(java.util.Locale.ROOT).replaceAll("[^a-z0-9]+", "-");
  }

  private static String messageOf(MessageSourceResolvable error) {
    return error.getDefaultMessage() == null ? "is invalid" : error.getDefaultMessage();
  }

  private static String path(JsonMappingException e) {
    String joined =
        e.getPath().stream()
            .map(r -> r.getFieldName() != null ? r.getFieldName() : "[" + r.getIndex() + "]")
            .collect(Collectors.joining("."))
            .replace(".[", "[");
    return joined.isEmpty() ? "body" : joined;
  }

  private static String mustBe(@Nullable Class<?> type) {
    if (type == null) {
      return "has the wrong type";
    }
    if (type.isEnum()) {
      return "must be one of "
          + Arrays.stream(type.getEnumConstants()).map(String::valueOf).toList();
    }
    if (type == UUID.class) {
      return "must be a UUID";
    }
    if (type == Integer.class || type == int.class || type == Long.class || type == long.class) {
      return "must be an integer";
    }
    if (Number.class.isAssignableFrom(type) || type == double.class || type == float.class) {
      return "must be a number";
    }
    if (type == Boolean.class || type == boolean.class) {
      return "must be true or false";
    }
    if (type == String.class) {
      return "must be a string";
    }
    if (java.time.temporal.Temporal.class.isAssignableFrom(type)) {
      return "must be an ISO-8601 timestamp";
    }
    if (java.util.Collection.class.isAssignableFrom(type) || type.isArray()) {
      return "must be an array";
    }
    return "must be an object";
  }
}
