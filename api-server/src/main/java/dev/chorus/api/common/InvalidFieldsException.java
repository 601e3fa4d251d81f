package dev.chorus.api.common;

import java.util.List;
import java.util.Map;

/**
 * A request body whose fields were checked by hand (where bean validation cannot say "absent" from
 * "null", as in a PATCH): answered like bean validation, 400 with {@code errors[]}.
 */
public class InvalidFieldsException extends RuntimeException {
  /** One field's problem. */
  public record FieldProblem(String field, String message) {}

  private final List<FieldProblem> problems;

  public InvalidFieldsException(List<FieldProblem> problems) {
    super("the request has invalid fields");
    this.problems = List.copyOf(problems);
  }

  public List<Map<String, String>> errors() {
    return problems.stream().map(p -> Map.of("field", p.field(), "message", p.message())).toList();
  }
}
