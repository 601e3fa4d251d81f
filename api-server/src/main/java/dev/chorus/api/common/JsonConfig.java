package dev.chorus.api.common;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.cfg.CoercionAction;
import com.fasterxml.jackson.databind.cfg.CoercionInputShape;
import com.fasterxml.jackson.databind.deser.std.StringDeserializer;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.type.LogicalType;
import dev.chorus.model.json.ChorusJson;
import java.io.IOException;
import org.springframework.boot.autoconfigure.jackson.Jackson2ObjectMapperBuilderCustomizer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

@Configuration(proxyBeanMethods = false)
class JsonConfig {
  /**
   * PostgreSQL text cannot hold NUL: refusing it while reading the body names the field (400)
   * instead of failing the insert (found by fuzzing).
   */
  static final class TextDeserializer extends StringDeserializer {
    @Override
    public String deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
      String value = super.deserialize(p, ctxt);
      if (value != null && value.indexOf('\u0000') >= 0) {
        throw InvalidFormatException.from(p, Problems.NUL_MESSAGE, value, String.class);
      }
      return value;
    }
  }

  @Bean
  Jackson2ObjectMapperBuilderCustomizer chorusJson() {
    return builder ->
        builder.postConfigurer(mapper -> {
          ChorusJson.configure(mapper);
          mapper.registerModule(
              new SimpleModule("chorus-text")
                  .addDeserializer(String.class, new TextDeserializer()));
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
