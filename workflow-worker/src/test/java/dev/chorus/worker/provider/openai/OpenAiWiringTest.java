package dev.chorus.worker.provider.openai;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.chorus.model.agent.ProviderKind;
import dev.chorus.model.json.ChorusJson;
import dev.chorus.worker.provider.ChatProvider;
import dev.chorus.worker.provider.ChatProviderGroup;
import dev.chorus.worker.provider.Endpoint;
import dev.chorus.worker.provider.ProviderHttp;
import dev.chorus.worker.provider.WireTestSupport;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Configuration;

/** The beans as Spring builds them from {@code chorus.providers.*}, in a minimal context. */
class OpenAiWiringTest {
  @Configuration(proxyBeanMethods = false)
  @EnableConfigurationProperties({OpenAiProperties.class, CompatibleProperties.class})
  static class Properties {}

  private final ApplicationContextRunner runner =
      new ApplicationContextRunner()
          .withUserConfiguration(Properties.class, OpenAiProviders.class)
          .withBean(ProviderHttp.class, WireTestSupport::http)
          .withBean(ObjectMapper.class, ChorusJson::mapper);

  @Test
  void openAiWithoutAKeyIsServedWithoutAServerEndpointAndNoNamedEndpointsIsFine() {
    runner.run(context -> {
      ChatProvider openai = context.getBean(ChatProvider.class);
      assertThat(openai.id()).isEqualTo("openai");
      assertThat(openai.kind()).isEqualTo(ProviderKind.OPENAI);
      assertThat(openai.serverEndpoint()).isEmpty();
      assertThat(openai.defaultBaseUrl()).isEqualTo("https://api.openai.com/v1");
      assertThat(context.getBean(ChatProviderGroup.class).providers()).isEmpty();
    });
  }

  @Test
  void keysBaseUrlsAndNamedEndpointsComeFromProperties() {
    runner
        .withPropertyValues(
            "chorus.providers.openai.api-key=sk-from-env",
            "chorus.providers.openai.base-url=https://proxy.example/v1",
            "chorus.providers.openai.organization=org-1",
            "chorus.providers.openai.read-timeout=90s",
            "chorus.providers.compatible.lmstudio.base-url=http://127.0.0.1:1234/v1",
            "chorus.providers.compatible.groq.base-url=https://api.groq.com/openai/v1",
            "chorus.providers.compatible.groq.api-key=gsk_1",
            "chorus.providers.compatible.groq.include-usage=false")
        .run(context -> {
          assertThat(context.getBean(OpenAiProperties.class).readTimeout())
              .isEqualTo(Duration.ofSeconds(90));
          ChatProvider openai = context.getBean(ChatProvider.class);
          assertThat(openai.serverEndpoint())
              .contains(new Endpoint("https://proxy.example/v1", "sk-from-env", false));
          var named = context.getBean(ChatProviderGroup.class).providers();
          assertThat(named).extracting(ChatProvider::id).containsExactly("groq", "lmstudio");
          assertThat(named.getFirst().serverEndpoint())
              .contains(new Endpoint("https://api.groq.com/openai/v1", "gsk_1", false));
        });
  }

  @Test
  void aBadNamedEndpointStopsTheContextWithAClearMessage() {
    runner
        .withPropertyValues("chorus.providers.compatible.anthropic.base-url=http://x/v1")
        .run(context ->
            assertThat(context)
                .hasFailed()
                .getFailure()
                .rootCause()
                .hasMessageContaining("'anthropic' is the name of a built-in provider"));
  }
}
