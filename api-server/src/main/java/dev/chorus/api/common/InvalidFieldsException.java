package dev.chorus.api.common;

import java.util.List;

/**
 * Field problems a service finds beyond bean validation: answered as the same 400 {@code
 * validation} problem with {@code errors[]}.
 */
public class InvalidFieldsException extends RuntimeException {
  private final transient List<Problems.FieldProblem> problems;

  public InvalidFieldsException(List<Problems.FieldProblem> problems) {
    super("the request has invalid fields", null, false, false);
    this.problems = List.copyOf(problems);
  }

  public InvalidFieldsException(String field, String message) {
    this(List.of(new Problems.FieldProblem(field, message)));
  }

  public List<Problems.FieldProblem> problems() {
    return problems;
  }
}
