package dev.chorus.worker.provider;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.chorus.model.agent.ProviderFailureType;

/**
 * One provider's JSON: the shared mapper, and failures that name the provider. A request that
 * cannot be written is an invalid request; an answer that cannot be read fails as its caller says.
 */
public final class ProviderJson {
  private final ObjectMapper mapper;
  private final String provider;

  /**
   * @param provider how failure messages name the provider, e.g. {@code Gemini}
   */
  public ProviderJson(ObjectMapper mapper, String provider) {
    this.mapper = mapper;
    this.provider = provider;
  }

  public ObjectNode object() {
    return mapper.createObjectNode();
  }

  public ArrayNode array() {
    return mapper.createArrayNode();
  }

  public byte[] write(JsonNode node) {
    try {
      return mapper.writeValueAsBytes(node);
    } catch (JsonProcessingException e) {
      throw ProviderFailure.of(
              ProviderFailureType.ProviderInvalidRequest,
              "could not encode the " + provider + " request: " + e.getOriginalMessage())
          .exception(e);
    }
  }

  /**
   * Reads a stream chunk or a whole answer; malformed, it fails as {@code failure} with the message
   * {@code malformed <provider> <what>}.
   */
  public JsonNode read(String body, ProviderFailureType failure, String what) {
    try {
      return mapper.readTree(body);
    } catch (JsonProcessingException e) {
      throw ProviderFailure.of(failure, "malformed " + provider + " " + what).exception(e);
    }
  }

  /**
   * Reads an error body; a missing node when there is none or it is not JSON (a proxy's page), so
   * that {@code path(...)} can be asked of it all the same.
   */
  public JsonNode tryRead(String body) {
    try {
      JsonNode node = body == null ? null : mapper.readTree(body);
      return node == null ? mapper.missingNode() : node;
    } catch (JsonProcessingException e) {
      return mapper.missingNode();
    }
  }

  /** The field's text when it is a string, else {@code null}. */
  public static String text(JsonNode node, String field) {
    JsonNode value = node == null ? null : node.get(field);
    return value != null && value.isTextual() ? value.asText() : null;
  }

  /** The field's value when it is a number that fits an int, else {@code null}. */
  public static Integer integer(JsonNode node, String field) {
    JsonNode value = node == null ? null : node.get(field);
    return value != null && value.isNumber() && value.canConvertToInt() ? value.intValue() : null;
  }
}
