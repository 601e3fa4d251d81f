package dev.chorus.api.common;

import java.util.List;

/** Checks on free text that PostgreSQL would otherwise refuse with a server error. */
public final class Texts {
  private Texts() {}

  /**
   * PostgreSQL text cannot hold the NUL character: a value with one is a 400 on its field, not a
   * 500 from the database.
   */
  public static void requireNoNul(String field, String value) {
    if (value != null && value.indexOf('\0') >= 0) {
      throw new InvalidFieldsException(
          List.of(new Problems.FieldProblem(field, "must not contain the NUL character")));
    }
  }
}
