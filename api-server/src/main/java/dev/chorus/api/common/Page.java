package dev.chorus.api.common;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.swagger.v3.oas.annotations.media.Schema;
import java.util.List;
import java.util.function.Function;

/** A page of a list: {@code nextCursor} is null on the last page. */
public record Page<T>(
    List<T> items,
    @Schema(
            types = {"string", "null"},
            description = "pass as ?cursor= for the next page; null on the last page")
        @JsonInclude(JsonInclude.Include.ALWAYS)
        String nextCursor) {

  /**
   * Builds a page from up to {@code size + 1} fetched rows: the extra row only says there is more.
   */
  public static <T> Page<T> of(List<T> fetched, int size, Function<T, Cursor> cursorOf) {
    if (fetched.size() <= size) {
      return new Page<>(fetched, null);
    }
    List<T> items = fetched.subList(0, size);
    return new Page<>(items, cursorOf.apply(items.getLast()).encode());
  }
}
