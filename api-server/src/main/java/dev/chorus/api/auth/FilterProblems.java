package dev.chorus.api.auth;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.chorus.api.common.Problems;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;

/** Writes the one error shape from servlet filters, which run before Spring MVC's advice. */
public final class FilterProblems {
  private FilterProblems() {}

  public static void write(
      HttpServletResponse response,
      ObjectMapper json,
      HttpStatus status,
      String type,
      String detail)
      throws IOException {
    response.setStatus(status.value());
    response.setContentType(MediaType.APPLICATION_PROBLEM_JSON_VALUE);
    json.writeValue(response.getOutputStream(), Problems.problem(status, type, detail));
  }
}
