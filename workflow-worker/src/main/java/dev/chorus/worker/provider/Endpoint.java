package dev.chorus.worker.provider;

/**
 * Where and with which key one call goes. {@code userSupplied} marks a base URL a user gave: such a
 * call goes through the egress-checked client, and never carries a server-owned key.
 */
public record Endpoint(String baseUrl, String apiKey, boolean userSupplied) {

  /** The base URL without a trailing slash, so paths can be appended. */
  public String url(String path) {
    String base = baseUrl.endsWith("/") ? baseUrl.substring(0, baseUrl.length() - 1) : baseUrl;
    return base + path;
  }

  public boolean hasKey() {
    return apiKey != null && !apiKey.isEmpty();
  }

  @Override
  public String toString() {
    return "Endpoint[" + baseUrl + ", key=" + (hasKey() ? "***" : "none") + "]";
  }
}
