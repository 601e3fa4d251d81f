package dev.chorus.worker.provider.openai;

import com.fasterxml.jackson.databind.JsonNode;
import dev.chorus.model.agent.ProviderFailureType;
import dev.chorus.worker.provider.Endpoint;
import dev.chorus.worker.provider.ProviderFailure;
import dev.chorus.worker.provider.ProviderHttp;
import dev.chorus.worker.provider.ProviderJson;
import java.time.Duration;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads the error shapes of OpenAI and the servers that copy it into classified failures: OpenAI's
 * {@code {"error":{"message","type","param","code"}}}, OpenRouter's numeric {@code error.code} with
 * moderation {@code metadata}, vLLM's flat {@code {"object":"error","message",...}}, a bare {@code
 * {"error":"..."}} and FastAPI's {@code {"detail":...}}; anything else by its raw text.
 */
final class OpenAiErrors {
  private OpenAiErrors() {}

  /** Codes and types meaning the content was refused (OpenAI, Azure OpenAI). */
  private static final Set<String> REFUSED =
      Set.of("content_filter", "content_policy_violation", "invalid_prompt");

  /** String codes and types of an error inside a stream, which has no HTTP status of its own. */
  private static final Set<String> RATE_LIMITED =
      Set.of("rate_limit_exceeded", "rate_limit_error", "rate_limit", "tokens", "requests");

  private static final Set<String> AUTH =
      Set.of("invalid_api_key", "authentication_error", "permission_error", "invalid_auth");

  private static final Pattern MODEL_MISSING =
      Pattern.compile(
          "(?i)\\bmodel\\b.*(does not exist|not found|is not a valid model|no such model"
              + "|not supported|unknown model)|not a valid model id");

  /** OpenAI's "Please try again in 2.4s." / "in 20ms" / "in 6m0s". */
  private static final Pattern TRY_AGAIN =
      Pattern.compile("(?i)try again in\\s+((?:\\d+(?:\\.\\d+)?(?:ms|h|m|s))+)");

  private static final Pattern DURATION_PART = Pattern.compile("(\\d+(?:\\.\\d+)?)(ms|h|m|s)");

  /** What an error body says. */
  record Info(String message, String code, String type, Integer numericCode, boolean flagged) {
    boolean is(Set<String> names) {
      return (code != null && names.contains(code)) || (type != null && names.contains(type));
    }

    boolean is(String name) {
      return name.equals(code) || name.equals(type);
    }
  }

  /** Classifies a non-2xx answer. */
  static ProviderFailure http(
      int status, String body, Duration retryAfter, Endpoint endpoint, ProviderJson json) {
    Info info = read(json.tryRead(body), body);
    String message = describe(info, endpoint);
    ProviderFailureType type = refine(byStatus(status), status, info);
    return new ProviderFailure(type, message, status, wait(type, retryAfter, message));
  }

  /** Classifies an error object sent inside a 200 stream. */
  static ProviderFailure inStream(JsonNode chunk, Endpoint endpoint) {
    Info info = read(chunk, chunk.toString());
    ProviderFailureType type;
    if (info.numericCode() != null) {
      type = byStatus(info.numericCode());
    } else if (info.is(RATE_LIMITED)) {
      type = ProviderFailureType.ProviderRateLimited;
    } else if (info.is(AUTH)) {
      type = ProviderFailureType.ProviderAuthFailed;
    } else if (info.is("invalid_request_error") || info.is("context_length_exceeded")) {
      type = ProviderFailureType.ProviderInvalidRequest;
    } else {
      // server_error, overloaded, a provider behind a router that went away, or unknown words:
      // the request itself was accepted, so another attempt may well succeed.
      type = ProviderFailureType.ProviderUnavailable;
    }
    type = refine(type, info.numericCode() == null ? 200 : info.numericCode(), info);
    String message = "error inside the stream: " + describe(info, endpoint);
    return new ProviderFailure(type, message, null, wait(type, null, message));
  }

  private static ProviderFailureType byStatus(int status) {
    if (status == 402) {
      return ProviderFailureType.ProviderAuthFailed; // out of credits (OpenRouter): pay, then retry
    }
    return ProviderHttp.byStatus(status, "", null).type();
  }

  private static ProviderFailureType refine(ProviderFailureType type, int status, Info info) {
    if (info.is("insufficient_quota")) {
      // OpenAI answers 429 when the account's quota or credit is exhausted; retrying cannot help
      // until someone pays, so this is treated like a key without permission, not a rate limit.
      return ProviderFailureType.ProviderAuthFailed;
    }
    if (info.is(REFUSED) || info.flagged()) {
      return ProviderFailureType.ProviderRefused;
    }
    if (info.is("model_not_found")
        || ((status == 400 || status == 404 || status == 422)
            && info.message() != null
            && MODEL_MISSING.matcher(info.message()).find())) {
      return ProviderFailureType.ProviderUnknownModel;
    }
    if (info.is("context_length_exceeded")) {
      return ProviderFailureType.ProviderInvalidRequest;
    }
    if (info.is("rate_limit_exceeded")) {
      return ProviderFailureType.ProviderRateLimited;
    }
    return type;
  }

  static Info read(JsonNode root, String raw) {
    String fallback = raw == null || raw.isBlank() ? "no error message" : raw.strip();
    if (!root.isObject()) {
      return new Info(fallback, null, null, null, false);
    }
    JsonNode error = root.get("error");
    if (error != null && error.isTextual()) {
      return new Info(error.asText(), null, null, null, false);
    }
    // vLLM's flat shape has the fields on the root itself.
    JsonNode fields = error != null && error.isObject() ? error : root;
    String message = text(fields.get("message"));
    if (message == null) {
      message = text(root.get("detail"));
    }
    if (message == null && root.path("detail").isArray()) {
      message = root.get("detail").toString(); // FastAPI validation errors
    }
    JsonNode code = fields.get("code");
    Integer numeric = null;
    String codeText = null;
    if (code != null && code.isIntegralNumber()) {
      numeric = code.asInt() >= 400 && code.asInt() <= 599 ? code.asInt() : null;
    } else {
      codeText = lower(text(code));
      if (codeText != null && codeText.matches("[45]\\d\\d")) {
        numeric = Integer.valueOf(codeText);
      }
    }
    JsonNode metadata = fields.path("metadata");
    boolean flagged = metadata.has("reasons") || metadata.has("flagged_input");
    return new Info(
        message == null ? fallback : message,
        codeText,
        lower(text(fields.get("type"))),
        numeric,
        flagged);
  }

  private static String describe(Info info, Endpoint endpoint) {
    String message = info.message();
    if (info.is("insufficient_quota")) {
      message = "quota exhausted, check the account's plan and billing: " + message;
    }
    if (info.code() != null && !message.contains(info.code())) {
      message = message + " [" + info.code() + "]";
    }
    return endpoint.redact(message);
  }

  private static Duration wait(ProviderFailureType type, Duration header, String message) {
    if (header != null || type != ProviderFailureType.ProviderRateLimited) {
      return header;
    }
    return tryAgainIn(message);
  }

  /** The wait an OpenAI rate-limit message asks for, or {@code null}. */
  static Duration tryAgainIn(String message) {
    if (message == null) {
      return null;
    }
    Matcher m = TRY_AGAIN.matcher(message);
    if (!m.find()) {
      return null;
    }
    double millis = 0;
    Matcher part = DURATION_PART.matcher(m.group(1));
    while (part.find()) {
      double value = Double.parseDouble(part.group(1));
      millis +=
          switch (part.group(2)) {
            case "ms" -> value;
            case "s" -> value * 1_000;
            case "m" -> value * 60_000;
            default -> value * 3_600_000;
          };
    }
    return Duration.ofMillis((long) Math.ceil(millis));
  }

  private static String text(JsonNode node) {
    if (node == null || node.isNull() || node.isMissingNode()) {
      return null;
    }
    String s = node.isValueNode() ? node.asText() : node.toString();
    return s.isBlank() ? null : s;
  }

  private static String lower(String s) {
    return s == null ? null : s.toLowerCase(Locale.ROOT);
  }
}
