package dev.chorus.api.ws;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import dev.chorus.model.event.QueryEvent;
import dev.chorus.model.notify.UserEvent;
import java.io.IOException;
import java.io.Reader;
import java.lang.reflect.RecordComponent;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

/**
 * Keeps docs/asyncapi.yaml true: every frame type the server reads or sends is documented (and
 * nothing else), and every documented event has the fields of the record the server serializes.
 */
class AsyncApiDocumentTest {
  private static final Path DOCUMENT = Path.of("..", "docs", "asyncapi.yaml");
  private static Map<String, Object> root;

  @BeforeAll
  @SuppressWarnings("unchecked")
  static void load() throws IOException {
    try (Reader reader = Files.newBufferedReader(DOCUMENT)) {
      root = (Map<String, Object>) new Yaml().load(reader);
    }
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> map(Object node) {
    return (Map<String, Object>) node;
  }

  /** Follows {@code $ref}s (local JSON pointers only) until a node that is not a reference. */
  private static Map<String, Object> deref(Map<String, Object> node) {
    Map<String, Object> current = node;
    while (current.get("$ref") instanceof String ref) {
      assertThat(ref).startsWith("#/");
      Object target = root;
      for (String part : ref.substring(2).split("/")) {
        target = map(target).get(part);
        assertThat(target).as("reference %s", ref).isNotNull();
      }
      current = map(target);
    }
    return current;
  }

  /** The properties and required fields of a payload, with {@code allOf} parts merged. */
  private record Shape(Map<String, Object> properties, Set<String> required) {}

  @SuppressWarnings("unchecked")
  private static Shape shape(Map<String, Object> schema) {
    schema = deref(schema);
    Map<String, Object> properties = new HashMap<>();
    Set<String> required = new LinkedHashSet<>();
    if (schema.get("allOf") instanceof List<?> parts) {
      for (Object part : parts) {
        Shape s = shape(map(part));
        properties.putAll(s.properties());
        required.addAll(s.required());
      }
    }
    if (schema.get("properties") instanceof Map<?, ?> own) {
      properties.putAll((Map<String, Object>) own);
    }
    if (schema.get("required") instanceof List<?> own) {
      own.forEach(r -> required.add((String) r));
    }
    return new Shape(properties, required);
  }

  private static String typeOf(Map<String, Object> message) {
    Object type = shape(map(message.get("payload"))).properties().get("type");
    assertThat(type).as("message %s has a type property", message.get("name")).isNotNull();
    Object constant = map(type).get("const");
    assertThat(constant).as("type of %s is a const", message.get("name")).isNotNull();
    return (String) constant;
  }

  private static List<Map<String, Object>> messagesOf(String action) {
    List<Map<String, Object>> out = new ArrayList<>();
    for (Object operation : map(root.get("operations")).values()) {
      if (action.equals(map(operation).get("action"))) {
        for (Object ref : (List<?>) map(operation).get("messages")) {
          out.add(deref(map(ref)));
        }
      }
    }
    return out;
  }

  private static Set<String> types(List<Map<String, Object>> messages) {
    return messages.stream().map(AsyncApiDocumentTest::typeOf).collect(Collectors.toSet());
  }

  private static Map<String, Class<?>> subtypes(Class<?> sealed) {
    return Arrays.stream(sealed.getAnnotation(JsonSubTypes.class).value())
        .collect(Collectors.toMap(JsonSubTypes.Type::name, JsonSubTypes.Type::value));
  }

  @Test
  void isAnAsyncApi3DocumentOfTheWsEndpoint() {
    assertThat(root.get("asyncapi")).isEqualTo("3.0.0");
    assertThat(map(map(root.get("channels")).get("chat")).get("address")).isEqualTo("/ws");
  }

  @Test
  void documentsExactlyTheFramesTheServerReads() {
    Set<String> code =
        Arrays.stream(Frames.Client.values()).map(c -> c.wire).collect(Collectors.toSet());
    assertThat(new TreeSet<>(types(messagesOf("receive")))).isEqualTo(new TreeSet<>(code));
  }

  @Test
  void documentsExactlyTheEventsTheServerSends() {
    Set<String> code = new TreeSet<>();
    Arrays.stream(Frames.Server.values()).forEach(s -> code.add(s.wire));
    code.addAll(subtypes(QueryEvent.class).keySet());
    code.addAll(subtypes(UserEvent.class).keySet());
    assertThat(new TreeSet<>(types(messagesOf("send")))).isEqualTo(code);
  }

  @Test
  void eventFieldsMatchTheRecordsTheServerSerializes() {
    Map<String, Class<?>> records = new HashMap<>(subtypes(QueryEvent.class));
    records.putAll(subtypes(UserEvent.class));
    for (Map<String, Object> message : messagesOf("send")) {
      Class<?> type = records.get(typeOf(message));
      if (type == null) {
        continue; // A protocol frame the handler writes itself.
      }
      Set<String> fields =
          Arrays.stream(type.getRecordComponents())
              .map(RecordComponent::getName)
              .collect(Collectors.toCollection(TreeSet::new));
      fields.add("type");
      fields.add("conversationId"); // Every event names its conversation.
      if (QueryEvent.class.isAssignableFrom(type)) {
        fields.add("id");
      }
      assertThat(new TreeSet<>(shape(map(message.get("payload"))).properties().keySet()))
          .as("documented fields of %s", typeOf(message))
          .isEqualTo(fields);
    }
  }

  @Test
  void everyMessageHasExamplesThatFitItsPayload() {
    List<Map<String, Object>> all = new ArrayList<>(messagesOf("receive"));
    all.addAll(messagesOf("send"));
    for (Map<String, Object> message : all) {
      String type = typeOf(message);
      Shape shape = shape(map(message.get("payload")));
      List<?> examples = (List<?>) message.get("examples");
      assertThat(examples).as("examples of %s", type).isNotEmpty();
      for (Object example : examples) {
        Map<String, Object> payload = map(map(example).get("payload"));
        assertThat(payload.get("type")).as("example of %s", type).isEqualTo(type);
        assertThat(payload.keySet()).as("example of %s", type).containsAll(shape.required());
        assertThat(shape.properties().keySet())
            .as("example of %s uses only documented fields", type)
            .containsAll(payload.keySet());
      }
    }
  }
}
