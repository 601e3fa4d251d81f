package dev.chorus.api.common;

import com.fasterxml.jackson.databind.ObjectMapper;
import jakarta.servlet.RequestDispatcher;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import org.springframework.boot.web.servlet.error.ErrorController;
import org.springframework.http.HttpStatus;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.MediaType;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * Errors that never reach a controller (a filter threw, the container refused the request) are
 * forwarded to {@code /error}; this answers them in the same problem+json shape as everything else,
 * instead of Spring Boot's own JSON or HTML page. Written straight to the response: an error must
 * not fail again on content negotiation.
 */
@RestController
class ProblemErrorController implements ErrorController {
  private final ObjectMapper json;

  ProblemErrorController(ObjectMapper json) {
    this.json = json;
  }

  @RequestMapping("/error")
  void error(HttpServletRequest request, HttpServletResponse response) throws IOException {
    Object code = request.getAttribute(RequestDispatcher.ERROR_STATUS_CODE);
    int value = code instanceof Integer i && i >= 400 ? i : 500;
    HttpStatusCode status = HttpStatusCode.valueOf(value);
    Throwable failure = (Throwable) request.getAttribute(RequestDispatcher.ERROR_EXCEPTION);
    String detail;
    String type;
    if (failure instanceof BodyTooLargeException
        || hasCause(failure, BodyTooLargeException.class)) {
      status = HttpStatus.PAYLOAD_TOO_LARGE;
      type = "body-too-large";
      detail = "the request body is too large";
    } else {
      type = Problems.slug(status);
      HttpStatus known = HttpStatus.resolve(value);
      detail = known == null ? "the request failed" : known.getReasonPhrase();
    }
    if (response.isCommitted()) {
      return;
    }
    response.resetBuffer();
    response.setStatus(status.value());
    response.setContentType(MediaType.APPLICATION_PROBLEM_JSON_VALUE);
    json.writeValue(response.getOutputStream(), Problems.problem(status, type, detail));
  }

  private static boolean hasCause(Throwable failure, Class<? extends Throwable> type) {
    for (Throwable t = failure; t != null; t = t.getCause()) {
      if (type.isInstance(t)) {
        return true;
      }
    }
    return false;
  }
}
