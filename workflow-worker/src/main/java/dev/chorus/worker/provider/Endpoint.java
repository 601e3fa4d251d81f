package dev.chorus.worker.provider;

import dev.chorus.model.agent.ProviderFailureType;
import java.util.regex.Pattern;
import okhttp3.HttpUrl;
import okhttp3.Request;

/**
 * Where and with which key one call goes. {@code userSupplied} marks a base URL a user gave: such a
 * call goes through the egress-checked client, and never carries a server-owned key.
 */
public record Endpoint(String baseUrl, String apiKey, boolean userSupplied) {
  /**
   * Anthropic's keys, OpenAI's (also the masked {@code sk-ab***yz} OpenAI echoes in a 401) and
   * Google's: a provider's words may carry a key that is not this endpoint's.
   */
  private static final Pattern KEY_SHAPED =
      Pattern.compile("(sk-ant-|\\bsk-|\\bAIza)[A-Za-z0-9_*\\-]{3,}");

  /** Shorter than this is no real key, and replacing it would only garble a message. */
  private static final int MIN_REDACTED_KEY = 4;

  /**
   * {@code path} under the base URL (a trailing slash on the base is dropped). A base URL that is
   * not http(s) fails the call as an invalid request.
   */
  public HttpUrl url(String path) {
    String base = baseUrl.endsWith("/") ? baseUrl.substring(0, baseUrl.length() - 1) : baseUrl;
    HttpUrl url = HttpUrl.parse(base + path);
    if (url == null) {
      throw ProviderFailure.of(
              ProviderFailureType.ProviderInvalidRequest,
              redact("not an http(s) base URL: " + baseUrl))
          .exception();
    }
    return url;
  }

  public boolean hasKey() {
    return apiKey != null && !apiKey.isEmpty();
  }

  /**
   * Sends the key, when there is one, in header {@code name}: never in the URL, which gets logged.
   */
  public Request.Builder authorize(Request.Builder request, String name) {
    return hasKey() ? request.header(name, apiKey) : request;
  }

  /** Sends the key, when there is one, as {@code Authorization: Bearer <key>}. */
  public Request.Builder authorizeBearer(Request.Builder request) {
    return hasKey() ? request.header("Authorization", "Bearer " + apiKey) : request;
  }

  /**
   * A provider's words with this endpoint's key, and anything shaped like a key, masked: error
   * bodies may echo a header back, and no key ever reaches a failure message.
   */
  public String redact(String message) {
    if (message == null) {
      return null;
    }
    String out =
        apiKey != null && apiKey.strip().length() >= MIN_REDACTED_KEY
            ? message.replace(apiKey, "***")
            : message;
    return KEY_SHAPED.matcher(out).replaceAll("$1***");
  }

  @Override
  public String toString() {
    return "Endpoint[" + baseUrl + ", key=" + (hasKey() ? "***" : "none") + "]";
  }
}
