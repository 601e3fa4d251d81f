package dev.chorus.worker.provider.openai;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.chorus.model.agent.ProviderKind;
import dev.chorus.worker.provider.ChatProvider;
import dev.chorus.worker.provider.ChatProviderGroup;
import dev.chorus.worker.provider.ProviderHttp;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import okhttp3.HttpUrl;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** The {@code openai} provider and one provider per named OpenAI-compatible endpoint. */
@Configuration(proxyBeanMethods = false)
class OpenAiProviders {
  static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9._-]*");

  /** Ids a named endpoint may not take: the built-in providers' (and kinds') names. */
  static final Set<String> RESERVED =
      Arrays.stream(ProviderKind.values()).map(ProviderKind::id).collect(Collectors.toSet());

  @Bean
  ChatProvider openAiProvider(OpenAiProperties properties, ProviderHttp http, ObjectMapper json) {
    return openAi(properties, http, json);
  }

  @Bean
  ChatProviderGroup openAiCompatibleProviders(
      CompatibleProperties properties, ProviderHttp http, ObjectMapper json) {
    List<ChatProvider> providers = compatible(properties, http, json);
    return () -> providers;
  }

  static OpenAiChatProvider openAi(
      OpenAiProperties properties, ProviderHttp http, ObjectMapper json) {
    requireUrl("openai", properties.baseUrl());
    return new OpenAiChatProvider(
        "openai", ProviderKind.OPENAI, OpenAiSettings.openAi(properties), http, json);
  }

  /** Validates every named endpoint (a bad one stops the worker at start) and builds them. */
  static List<ChatProvider> compatible(
      CompatibleProperties properties, ProviderHttp http, ObjectMapper json) {
    List<ChatProvider> providers = new ArrayList<>();
    for (Map.Entry<String, CompatibleProperties.CompatibleEndpoint> entry :
        new TreeMap<>(properties.compatible()).entrySet()) {
      String name = entry.getKey();
      var endpoint = entry.getValue();
      if (!NAME.matcher(name).matches()) {
        throw new IllegalStateException(
            "chorus.providers.compatible: '"
                + name
                + "' is not a valid provider name (lower-case letters, digits, '.', '_' and '-',"
                + " starting with a letter or digit)");
      }
      if (RESERVED.contains(name)) {
        throw new IllegalStateException(
            "chorus.providers.compatible: '" + name + "' is the name of a built-in provider");
      }
      if (endpoint == null || endpoint.baseUrl() == null || endpoint.baseUrl().isBlank()) {
        throw new IllegalStateException(
            "chorus.providers.compatible." + name + ".base-url is required");
      }
      requireUrl("compatible." + name, endpoint.baseUrl());
      OpenAiSettings settings = OpenAiSettings.compatible(endpoint);
      if (!settings.maxTokensField().equals(OpenAiSettings.MAX_TOKENS)
          && !settings.maxTokensField().equals(OpenAiSettings.MAX_COMPLETION_TOKENS)) {
        throw new IllegalStateException(
            "chorus.providers.compatible."
                + name
                + ".max-tokens-field must be max_tokens or max_completion_tokens, not '"
                + settings.maxTokensField()
                + "'");
      }
      providers.add(
          new OpenAiChatProvider(name, ProviderKind.OPENAI_COMPATIBLE, settings, http, json));
    }
    return List.copyOf(providers);
  }

  private static void requireUrl(String name, String baseUrl) {
    HttpUrl url = HttpUrl.parse(baseUrl.strip());
    if (url == null) {
      throw new IllegalStateException(
          "chorus.providers." + name + ".base-url is not an http(s) URL: " + baseUrl);
    }
    if (url.username().length() > 0 || url.password().length() > 0) {
      throw new IllegalStateException(
          "chorus.providers." + name + ".base-url must not carry credentials: set api-key");
    }
  }
}
