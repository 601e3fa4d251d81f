package dev.chorus.worker.provider.openai;

import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * OpenAI itself. Without an API key the provider still serves users who stored their own key.
 *
 * @param organization sent as {@code OpenAI-Organization}, only with the server's own key
 * @param readTimeout the longest wait for the next byte, {@code null} for the worker's default
 */
@ConfigurationProperties("chorus.providers.openai")
public record OpenAiProperties(
    String apiKey,
    @DefaultValue(OpenAiProperties.DEFAULT_BASE_URL) String baseUrl,
    String organization,
    Duration readTimeout) {
  public static final String DEFAULT_BASE_URL = "https://api.openai.com/v1";

  public OpenAiProperties {
    baseUrl = baseUrl == null || baseUrl.isBlank() ? DEFAULT_BASE_URL : baseUrl.strip();
  }

  @Override
  public String toString() {
    return "OpenAiProperties[baseUrl="
        + baseUrl
        + ", key="
        + (apiKey == null || apiKey.isBlank() ? "none" : "***")
        + ", organization="
        + organization
        + ", readTimeout="
        + readTimeout
        + "]";
  }
}
