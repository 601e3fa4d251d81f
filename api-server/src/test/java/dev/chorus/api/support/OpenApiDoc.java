package dev.chorus.api.support;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.chorus.model.json.ChorusJson;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * The api-server's own OpenAPI document ({@code /v3/api-docs}), read as tests need it: every
 * operation, and a valid sample for any schema — so tests cover routes added after they were
 * written.
 */
public final class OpenApiDoc {
  private static final ObjectMapper JSON = ChorusJson.mapper();
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

  /** One operation: {@code method} in upper case, {@code path} as templated in the document. */
  public record Operation(String method, String path, JsonNode node) {
    public String key() {
      return method + " " + path;
    }

    public List<JsonNode> parameters(String in) {
      List<JsonNode> out = new ArrayList<>();
      node.path("parameters")
          .forEach(p -> {
            if (in.equals(p.path("in").asText())) {
              out.add(p);
            }
          });
      return out;
    }

    public boolean hasBody() {
      return node.has("requestBody");
    }

    /** Whether a response of this operation is an event stream (SSE). */
    public boolean streams() {
      for (JsonNode response : node.path("responses")) {
        if (response.path("content").has("text/event-stream")) {
          return true;
        }
      }
      return false;
    }
  }

  private final JsonNode root;

  private OpenApiDoc(JsonNode root) {
    this.root = root;
  }

  public static OpenApiDoc fetch(int port) {
    try {
      var response =
          HttpClient.newHttpClient()
              .send(
                  HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v3/api-docs"))
                      .build(),
                  HttpResponse.BodyHandlers.ofString());
      if (response.statusCode() != 200) {
        throw new AssertionError("/v3/api-docs answered " + response.statusCode());
      }
      return new OpenApiDoc(JSON.readTree(response.body()));
    } catch (IOException e) {
      throw new IllegalStateException("reading /v3/api-docs failed", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  public JsonNode root() {
    return root;
  }

  public List<Operation> operations() {
    List<Operation> out = new ArrayList<>();
    for (Map.Entry<String, JsonNode> path : root.path("paths").properties()) {
      for (Map.Entry<String, JsonNode> op : path.getValue().properties()) {
        if (List.of("get", "put", "post", "delete", "patch").contains(op.getKey())) {
          out.add(new Operation(op.getKey().toUpperCase(), path.getKey(), op.getValue()));
        }
      }
    }
    return out;
  }

  /** A valid request body for the operation: its documented example, else one from the schema. */
  public JsonNode sampleBody(Operation operation) {
    JsonNode media = operation.node().path("requestBody").path("content").path("application/json");
    if (media.has("example")) {
      return media.get("example");
    }
    if (media.has("examples") && media.get("examples").elements().hasNext()) {
      return media.get("examples").elements().next().path("value");
    }
    return sample(media.path("schema"));
  }

  /** A valid value for a schema: examples first, then the least that satisfies it. */
  public JsonNode sample(JsonNode reference) {
    JsonNode schema = resolve(reference);
    if (schema.has("example")) {
      return schema.get("example");
    }
    if (schema.path("examples").isArray() && !schema.path("examples").isEmpty()) {
      return schema.get("examples").get(0);
    }
    if (schema.path("enum").isArray() && !schema.path("enum").isEmpty()) {
      return schema.get("enum").get(0);
    }
    for (String combinator : List.of("allOf", "oneOf", "anyOf")) {
      if (schema.path(combinator).isArray() && !schema.path(combinator).isEmpty()) {
        return sample(schema.get(combinator).get(0));
      }
    }
    return switch (type(schema)) {
      case "object" -> {
        ObjectNode object = NODES.objectNode();
        schema
            .path("required")
            .forEach(name ->
                object.set(name.asText(), sample(schema.path("properties").path(name.asText()))));
        yield object;
      }
      case "array" -> {
        ArrayNode array = NODES.arrayNode();
        if (schema.path("minItems").asInt(0) > 0) {
          array.add(sample(schema.path("items")));
        }
        yield array;
      }
      case "integer" -> NODES.numberNode(schema.path("minimum").asLong(1));
      case "number" -> NODES.numberNode(schema.path("minimum").asDouble(1));
      case "boolean" -> NODES.booleanNode(false);
      default ->
          NODES.textNode(
              switch (schema.path("format").asText()) {
                case "uuid" -> UUID.randomUUID().toString();
                case "date-time" -> Instant.now().toString();
                case "email" -> "someone@example.com";
                default -> "s".repeat(Math.max(6, schema.path("minLength").asInt(0)));
              });
    };
  }

  private JsonNode resolve(JsonNode schema) {
    while (schema.has("$ref")) {
      String ref = schema.get("$ref").asText();
      schema = root.at(ref.substring(1));
    }
    return schema;
  }

  private static String type(JsonNode schema) {
    JsonNode type = schema.path("type");
    if (type.isArray()) {
      for (JsonNode t : type) {
        if (!"null".equals(t.asText())) {
          return t.asText();
        }
      }
    }
    if (type.isTextual()) {
      return type.asText();
    }
    return schema.has("properties") ? "object" : "string";
  }
}
