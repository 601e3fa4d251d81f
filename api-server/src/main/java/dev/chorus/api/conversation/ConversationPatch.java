package dev.chorus.api.conversation;

import com.fasterxml.jackson.databind.JsonNode;
import dev.chorus.api.common.InvalidFieldsException;
import dev.chorus.api.common.Problems.FieldProblem;
import dev.chorus.model.agent.AgentSpec;
import dev.chorus.model.json.ChorusJson;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.function.UnaryOperator;

/**
 * Reads a PATCH body by hand: a record cannot tell a field sent as {@code null} (clear it) from a
 * field left out (keep it). Every problem is reported at once, field by field.
 */
final class ConversationPatch {
  static final int MAX_SYSTEM_PROMPT = 20_000;

  private ConversationPatch() {}

  static ConversationStore.Change parse(
      JsonNode body, UnaryOperator<List<AgentSpec>> normalizeAgents) {
    List<FieldProblem> problems = new ArrayList<>();
    if (body == null || !body.isObject()) {
      throw new InvalidFieldsException(List.of(new FieldProblem("", "must be a JSON object")));
    }
    Optional<String> title =
        text(body, "title", ConversationController.MAX_TITLE, problems)
            .map(o -> o.map(String::strip).filter(s -> !s.isEmpty()))
            .orElse(null);
    Boolean archived = null;
    if (body.has("archived")) {
      if (body.get("archived").isBoolean()) {
        archived = body.get("archived").booleanValue();
      } else {
        problems.add(new FieldProblem("archived", "must be true or false"));
      }
    }
    Optional<String> systemPrompt =
        text(body, "systemPrompt", MAX_SYSTEM_PROMPT, problems)
            .map(o -> o.filter(s -> !s.isBlank()))
            .orElse(null);
    Optional<Double> temperature = null;
    if (body.has("temperature")) {
      JsonNode t = body.get("temperature");
      if (t.isNull()) {
        temperature = Optional.empty();
      } else if (t.isNumber() && t.doubleValue() >= 0 && t.doubleValue() <= 2) {
        temperature = Optional.of(t.doubleValue());
      } else {
        problems.add(new FieldProblem("temperature", "must be a number between 0 and 2"));
      }
    }
    Optional<List<AgentSpec>> agents = null;
    if (body.has("agents")) {
      JsonNode a = body.get("agents");
      if (a.isNull()) {
        agents = Optional.empty();
      } else if (a.isArray()) {
        try {
          agents =
              Optional.of(Arrays.asList(ChorusJson.mapper().treeToValue(a, AgentSpec[].class)));
        } catch (com.fasterxml.jackson.core.JsonProcessingException | IllegalArgumentException e) {
          problems.add(new FieldProblem("agents", "must be a list of agents"));
        }
      } else {
        problems.add(new FieldProblem("agents", "must be a list of agents or null"));
      }
    }
    if (!problems.isEmpty()) {
      throw new InvalidFieldsException(problems);
    }
    if (agents != null && agents.isPresent()) {
      agents =
          agents.get().isEmpty()
              ? Optional.empty()
              : Optional.of(normalizeAgents.apply(agents.get()));
    }
    return new ConversationStore.Change(title, archived, agents, systemPrompt, temperature);
  }

  /**
   * A text field: absent → empty (leave it), null → Optional.of(Optional.empty()) (clear it), a
   * string within {@code max} characters → its value.
   */
  private static Optional<Optional<String>> text(
      JsonNode body, String field, int max, List<FieldProblem> problems) {
    if (!body.has(field)) {
      return Optional.empty();
    }
    JsonNode value = body.get(field);
    if (value.isNull()) {
      return Optional.of(Optional.empty());
    }
    if (!value.isTextual()) {
      problems.add(new FieldProblem(field, "must be a string or null"));
      return Optional.empty();
    }
    if (value.textValue().indexOf('\0') >= 0) {
      problems.add(new FieldProblem(field, "must not contain the NUL character"));
      return Optional.empty();
    }
    if (value.textValue().length() > max) {
      problems.add(new FieldProblem(field, "must be at most " + max + " characters"));
      return Optional.empty();
    }
    return Optional.of(Optional.of(value.textValue()));
  }
}
