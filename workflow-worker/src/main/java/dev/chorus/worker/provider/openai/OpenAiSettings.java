package dev.chorus.worker.provider.openai;

import java.time.Duration;
import java.util.List;

/**
 * How one OpenAI-protocol provider talks: where, with which server key, and the request and stream
 * details in which OpenAI and the compatible servers differ.
 *
 * @param apiKey the server's key, {@code null} or blank for none
 * @param organization the {@code OpenAI-Organization} header sent with the server's key, or {@code
 *     null}
 * @param readTimeout {@code null} for the worker's default
 * @param keyRequired whether the server endpoint exists only with a key (OpenAI itself)
 * @param staticModels the model list used when {@code GET /models} fails
 */
record OpenAiSettings(
    String baseUrl,
    String apiKey,
    String organization,
    Duration readTimeout,
    boolean includeUsage,
    String maxTokensField,
    boolean requireDone,
    boolean keyRequired,
    List<String> staticModels) {
  static final String MAX_TOKENS = "max_tokens";
  static final String MAX_COMPLETION_TOKENS = "max_completion_tokens";

  OpenAiSettings {
    apiKey = apiKey == null || apiKey.isBlank() ? null : apiKey.strip();
    organization = organization == null || organization.isBlank() ? null : organization.strip();
    staticModels = staticModels == null ? List.of() : List.copyOf(staticModels);
  }

  /** OpenAI itself: usage requested, {@code max_completion_tokens}, {@code [DONE]} required. */
  static OpenAiSettings openAi(OpenAiProperties p) {
    return new OpenAiSettings(
        p.baseUrl(),
        p.apiKey(),
        p.organization(),
        p.readTimeout(),
        true,
        MAX_COMPLETION_TOKENS,
        true,
        true,
        List.of());
  }

  static OpenAiSettings compatible(CompatibleProperties.CompatibleEndpoint e) {
    return new OpenAiSettings(
        e.baseUrl() == null ? null : e.baseUrl().strip(),
        e.apiKey(),
        null,
        e.readTimeout(),
        e.includeUsage(),
        e.maxTokensField() == null ? MAX_TOKENS : e.maxTokensField().strip(),
        e.requireDone(),
        false,
        e.models());
  }

  @Override
  public String toString() {
    return "OpenAiSettings[" + baseUrl + ", key=" + (apiKey == null ? "none" : "***") + "]";
  }
}
