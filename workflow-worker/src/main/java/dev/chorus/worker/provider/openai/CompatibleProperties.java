package dev.chorus.worker.provider.openai;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * Named OpenAI-compatible endpoints ({@code chorus.providers.compatible.<name>.*}): vLLM,
 * llama.cpp, LM Studio, OpenRouter, Groq, Together... Each becomes a provider whose id is its name.
 */
@ConfigurationProperties("chorus.providers")
public record CompatibleProperties(Map<String, CompatibleEndpoint> compatible) {

  public CompatibleProperties {
    compatible = compatible == null ? Map.of() : compatible;
  }

  /**
   * One named endpoint.
   *
   * @param baseUrl required, up to and including the version segment (e.g. {@code .../v1})
   * @param apiKey optional: local servers usually need none
   * @param readTimeout the longest wait for the next byte, {@code null} for the worker's default
   * @param includeUsage whether to send {@code stream_options: {include_usage: true}}; some servers
   *     reject unknown request fields
   * @param maxTokensField {@code max_tokens} (what most compatible servers read) or {@code
   *     max_completion_tokens}
   * @param models a static model list, used when the server's {@code GET /models} fails
   * @param requireDone whether only {@code data: [DONE]} ends a stream; by default a stream that
   *     gave a {@code finish_reason} and then closed is complete too, as some servers never send
   *     {@code [DONE]}
   */
  public record CompatibleEndpoint(
      String baseUrl,
      String apiKey,
      Duration readTimeout,
      @DefaultValue("true") boolean includeUsage,
      @DefaultValue("max_tokens") String maxTokensField,
      List<String> models,
      @DefaultValue("false") boolean requireDone) {

    public CompatibleEndpoint {
      models = models == null ? List.of() : List.copyOf(models);
    }

    @Override
    public String toString() {
      return "CompatibleEndpoint[baseUrl="
          + baseUrl
          + ", key="
          + (apiKey == null || apiKey.isBlank() ? "none" : "***")
          + ", readTimeout="
          + readTimeout
          + ", includeUsage="
          + includeUsage
          + ", maxTokensField="
          + maxTokensField
          + ", models="
          + models
          + ", requireDone="
          + requireDone
          + "]";
    }
  }
}
