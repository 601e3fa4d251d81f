package dev.chorus.worker.provider.ollama;

import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * The server's Ollama settings.
 *
 * @param baseUrl the Ollama server ({@code OLLAMA_BASE_URL}); blank: the server runs none, only
 *     users' own endpoints are served
 * @param apiKey sent as {@code Authorization: Bearer} when set (Ollama behind a proxy, Ollama
 *     cloud)
 * @param readTimeout the longest wait for the next byte: a local model may take minutes to load
 *     before its first token
 */
@ConfigurationProperties("chorus.providers.ollama")
public record OllamaProperties(
    String baseUrl, String apiKey, @DefaultValue("300s") Duration readTimeout) {
  public static final String DEFAULT_BASE_URL = "http://127.0.0.1:11434";

  public OllamaProperties {
    baseUrl = baseUrl == null ? "" : baseUrl.strip();
  }
}
