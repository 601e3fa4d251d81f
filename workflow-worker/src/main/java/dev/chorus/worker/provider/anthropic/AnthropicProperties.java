package dev.chorus.worker.provider.anthropic;

import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * The server's Anthropic settings.
 *
 * @param apiKey the server-owned key ({@code ANTHROPIC_API_KEY}); blank when the server holds none
 * @param version the {@code anthropic-version} header: the wire format this provider parses
 * @param defaultMaxTokens sent when a request names no maximum (Anthropic requires {@code
 *     max_tokens} on every call)
 * @param readTimeout the longest wait for the next byte, {@code null} for the worker's default
 */
@ConfigurationProperties("chorus.providers.anthropic")
public record AnthropicProperties(
    String apiKey,
    @DefaultValue(AnthropicProvider.DEFAULT_BASE_URL) String baseUrl,
    @DefaultValue("2023-06-01") String version,
    @DefaultValue("4096") int defaultMaxTokens,
    Duration readTimeout) {

  public boolean hasKey() {
    return apiKey != null && !apiKey.isBlank();
  }

  /** Never prints the key: properties end up in logs and actuator output. */
  @Override
  public String toString() {
    return "AnthropicProperties[baseUrl="
        + baseUrl
        + ", key="
        + (hasKey() ? "***" : "none")
        + ", version="
        + version
        + ", defaultMaxTokens="
        + defaultMaxTokens
        + ", readTimeout="
        + readTimeout
        + "]";
  }
}
