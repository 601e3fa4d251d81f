package dev.chorus.worker;

import dev.chorus.model.json.ChorusJson;
import org.springframework.boot.autoconfigure.jackson.Jackson2ObjectMapperBuilderCustomizer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

@Configuration(proxyBeanMethods = false)
class JsonConfig {
  @Bean
  Jackson2ObjectMapperBuilderCustomizer chorusJson() {
    return builder -> builder.postConfigurer(ChorusJson::configure);
  }
}
