package dev.chorus.worker.provider.mock;

import dev.chorus.model.agent.ProviderFailureType;
import dev.chorus.worker.provider.ProviderFailure;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.springframework.boot.convert.DurationStyle;

/**
 * What the mock does for one call, from the model name: {@code mock-1} streams the deterministic
 * answer; query parameters inject failures so retries and crashes can be shown without keys:
 *
 * <ul>
 *   <li>{@code error=429|500|503|401|403|400|404} — answer with that HTTP status, classified like a
 *       real provider's ({@code retryAfter=2s} sets the 429's Retry-After, default 1s);
 *   <li>{@code dropAfter=K} — break the stream after K tokens;
 *   <li>{@code failAttempts=N} — inject on the first N attempts only (default 1), {@code all} for
 *       every attempt;
 *   <li>{@code tokens=N}, {@code tokenDelay=25ms}, {@code firstTokenDelay=250ms} — shape the
 *       stream.
 * </ul>
 *
 * For example {@code mock-1?dropAfter=10&failAttempts=2} drops the first two attempts after ten
 * tokens, and the third completes.
 */
record MockScript(
    String model,
    Integer errorStatus,
    Integer dropAfter,
    int failAttempts,
    Duration retryAfter,
    int tokens,
    Duration tokenDelay,
    Duration firstTokenDelay) {
  static final int MAX_TOKENS = 100_000;

  boolean failsOn(int attempt) {
    return attempt <= failAttempts;
  }

  static MockScript parse(String spec, MockProperties defaults) {
    int q = spec.indexOf('?');
    String model = q < 0 ? spec : spec.substring(0, q);
    Map<String, String> params = new LinkedHashMap<>();
    if (q >= 0) {
      for (String pair : spec.substring(q + 1).split("&")) {
        if (pair.isEmpty()) {
          continue;
        }
        int eq = pair.indexOf('=');
        String key =
            URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
        String value =
            eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
        params.put(key, value);
      }
    }
    Integer error = params.containsKey("error") ? bounded(params, "error", 400, 599) : null;
    Integer drop =
        params.containsKey("dropAfter") ? bounded(params, "dropAfter", 0, MAX_TOKENS) : null;
    int failAttempts =
        !params.containsKey("failAttempts")
            ? 1
            : "all".equals(params.get("failAttempts"))
                ? Integer.MAX_VALUE
                : bounded(params, "failAttempts", 0, 1000);
    int tokens =
        params.containsKey("tokens") ? bounded(params, "tokens", 1, MAX_TOKENS) : defaults.tokens();
    Set<String> known =
        Set.of(
            "error",
            "dropAfter",
            "failAttempts",
            "retryAfter",
            "tokens",
            "tokenDelay",
            "firstTokenDelay");
    for (String key : params.keySet()) {
      if (!known.contains(key)) {
        throw invalid("unknown mock parameter '" + key + "'; known: " + known);
      }
    }
    return new MockScript(
        model,
        error,
        drop,
        failAttempts,
        duration(params, "retryAfter", Duration.ofSeconds(1)),
        tokens,
        duration(params, "tokenDelay", defaults.tokenDelay()),
        duration(params, "firstTokenDelay", defaults.firstTokenDelay()));
  }

  private static int bounded(Map<String, String> params, String key, int min, int max) {
    try {
      int value = Integer.parseInt(params.get(key));
      if (value < min || value > max) {
        throw invalid(key + " must be between " + min + " and " + max);
      }
      return value;
    } catch (NumberFormatException e) {
      throw invalid(key + " must be a number");
    }
  }

  private static Duration duration(Map<String, String> params, String key, Duration fallback) {
    String value = params.get(key);
    if (value == null) {
      return fallback;
    }
    try {
      Duration d = DurationStyle.detectAndParse(value);
      if (d.isNegative() || d.compareTo(Duration.ofMinutes(5)) > 0) {
        throw invalid(key + " must be between 0 and 5m");
      }
      return d;
    } catch (IllegalArgumentException | DateTimeParseException e) {
      throw invalid(key + " must be a duration like 25ms or 2s");
    }
  }

  private static RuntimeException invalid(String detail) {
    return ProviderFailure.of(ProviderFailureType.ProviderInvalidRequest, "mock: " + detail)
        .exception();
  }
}
