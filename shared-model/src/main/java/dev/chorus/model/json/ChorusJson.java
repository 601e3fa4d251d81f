package dev.chorus.model.json;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;

/**
 * The one JSON configuration of Chorus: ISO-8601 timestamps, nulls omitted, unknown fields ignored.
 */
public final class ChorusJson {
  private static final ObjectMapper MAPPER = configure(new ObjectMapper());

  private ChorusJson() {}

  public static ObjectMapper configure(ObjectMapper mapper) {
    return mapper
        .registerModule(new JavaTimeModule())
        .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
        .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
        .setDefaultPropertyInclusion(JsonInclude.Include.NON_NULL);
  }

  /**
   * A shared, fully configured mapper for code outside Spring (Spring beans get the same settings).
   */
  public static ObjectMapper mapper() {
    return MAPPER;
  }
}
