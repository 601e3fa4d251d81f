package dev.chorus.api.common;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.cfg.CoercionAction;
import com.fasterxml.jackson.databind.cfg.CoercionInputShape;
import com.fasterxml.jackson.databind.type.LogicalType;
import dev.chorus.model.json.ChorusJson;
import org.springframework.boot.autoconfigure.jackson.Jackson2ObjectMapperBuilderCustomizer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

@Configuration(proxyBeanMethods = false)
class JsonConfig {
  @Bean
  Jackson2ObjectMapperBuilderCustomizer chorusJson() {
    return builder ->
        builder.postConfigurer(mapper -> {
          ChorusJson.configure(mapper);
          // `{"content":"x"}}` is malformed, not a message: nothing may follow the value.
          mapper.enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
          // A number or boolean where a string belongs is a client error, not something to guess.
          mapper
              .coercionConfigFor(LogicalType.Textual)
              .setCoercion(CoercionInputShape.Integer, CoercionAction.Fail)
              .setCoercion(CoercionInputShape.Float, CoercionAction.Fail)
              .setCoercion(CoercionInputShape.Boolean, CoercionAction.Fail);
        });
  }
}
