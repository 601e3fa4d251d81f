package dev.chorus.worker.provider.gemini;

import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * The server's Gemini (Generative Language API) settings.
 *
 * @param apiKey the server's key ({@code GEMINI_API_KEY}); blank: only users' own keys are served
 * @param baseUrl the API root, without {@code /v1beta}
 * @param readTimeout the longest wait for the next byte: thinking models may think for a while
 *     before their first chunk
 */
@ConfigurationProperties("chorus.providers.gemini")
public record GeminiProperties(
    String apiKey,
    @DefaultValue(GeminiProperties.DEFAULT_BASE_URL) String baseUrl,
    @DefaultValue("180s") Duration readTimeout) {
  public static final String DEFAULT_BASE_URL = "https://generativelanguage.googleapis.com";

  public GeminiProperties {
    baseUrl = baseUrl == null || baseUrl.isBlank() ? DEFAULT_BASE_URL : baseUrl.strip();
  }

  boolean hasKey() {
    return apiKey != null && !apiKey.isBlank();
  }
}
