package dev.chorus.api.stats;

import dev.chorus.api.auth.CurrentUser;
import dev.chorus.api.common.ApiException;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import org.springframework.http.HttpStatus;
import org.springframework.security.core.annotation.AuthenticationPrincipal;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

@RestController
class StatsController {
  static final int MAX_DAYS = 366;
  private static final Instant EARLIEST = Instant.EPOCH;
  private static final Instant LATEST = Instant.parse("9999-12-31T00:00:00Z");

  private final StatsStore store;

  StatsController(StatsStore store) {
    this.store = store;
  }

  /**
   * The caller's conversations, messages, tokens and cost, in total, per provider and per UTC day.
   * {@code from} and {@code to} are dates ({@code 2026-11-01}, {@code to} inclusive) or instants
   * ({@code to} exclusive); by default the last 30 days up to now; at most {@value #MAX_DAYS} days.
   */
  @GetMapping("/api/me/stats")
  StatsView stats(
      @AuthenticationPrincipal CurrentUser user,
      @RequestParam(required = false) String from,
      @RequestParam(required = false) String to) {
    Instant end = to == null ? Instant.now() : parse("to", to, true);
    Instant start = from == null ? end.minus(30, ChronoUnit.DAYS) : parse("from", from, false);
    if (start.isBefore(EARLIEST) || end.isAfter(LATEST)) {
      throw new ApiException(
          HttpStatus.BAD_REQUEST, "invalid-range", "from and to must be within 1970 to 9999");
    }
    if (!start.isBefore(end)) {
      throw new ApiException(HttpStatus.BAD_REQUEST, "invalid-range", "from must be before to");
    }
    if (Duration.between(start, end).toDays() > MAX_DAYS) {
      throw new ApiException(
          HttpStatus.BAD_REQUEST, "invalid-range", "the range is limited to " + MAX_DAYS + " days");
    }
    return store.stats(user.id(), start, end);
  }

  /**
   * A date (the start of its UTC day; for the end of a range, the start of the next) or instant.
   */
  private static Instant parse(String name, String value, boolean end) {
    try {
      LocalDate day = LocalDate.parse(value);
      return (end ? day.plusDays(1) : day).atStartOfDay(ZoneOffset.UTC).toInstant();
    } catch (DateTimeParseException notADate) {
      try {
        return Instant.parse(value);
      } catch (DateTimeParseException e) {
        throw new ApiException(
            HttpStatus.BAD_REQUEST,
            "invalid-range",
            name + " must be a date (2026-11-01) or an ISO-8601 instant (2026-11-01T00:00:00Z)");
      }
    }
  }
}
