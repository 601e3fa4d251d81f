package dev.chorus.api.docs;

import io.swagger.v3.oas.models.Components;
import io.swagger.v3.oas.models.OpenAPI;
import io.swagger.v3.oas.models.Operation;
import io.swagger.v3.oas.models.PathItem;
import io.swagger.v3.oas.models.info.Info;
import io.swagger.v3.oas.models.media.ArraySchema;
import io.swagger.v3.oas.models.media.Content;
import io.swagger.v3.oas.models.media.IntegerSchema;
import io.swagger.v3.oas.models.media.MediaType;
import io.swagger.v3.oas.models.media.ObjectSchema;
import io.swagger.v3.oas.models.media.Schema;
import io.swagger.v3.oas.models.media.StringSchema;
import io.swagger.v3.oas.models.responses.ApiResponse;
import io.swagger.v3.oas.models.responses.ApiResponses;
import io.swagger.v3.oas.models.security.SecurityRequirement;
import io.swagger.v3.oas.models.security.SecurityScheme;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.springdoc.core.customizers.GlobalOpenApiCustomizer;
import org.springdoc.core.customizers.GlobalOperationCustomizer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The OpenAPI document at {@code /v3/api-docs} (Swagger UI at {@code /docs}) is generated from the
 * controllers; this adds what every operation shares, so a route added anywhere is documented alike
 * without touching this class: the bearer scheme, a summary and tag, and the problem+json error
 * responses it can give.
 */
@Configuration(proxyBeanMethods = false)
class OpenApiConfig {
  static final String BEARER = "bearer";
  static final String PROBLEM = "Problem";
  static final String PROBLEM_JSON = "application/problem+json";

  /** Routes that need no token (SecurityConfig lets them through). */
  static final Set<String> PUBLIC = Set.of("POST /api/auth/register", "POST /api/auth/login");

  @Bean
  OpenAPI chorusOpenApi() {
    return new OpenAPI()
        .info(
            new Info()
                .title("Chorus API")
                .version("v1")
                .description(
                    """
                    One message, many LLM agents. Send a message to a conversation, then follow \
                    its query live over WebSocket (`/ws`) or SSE, or read its final state here. \
                    Authenticate with `Authorization: Bearer <token>` from register or login. \
                    Every error is RFC 9457 `application/problem+json`; another user's object is \
                    always a 404.\
                    """))
        .components(
            new Components()
                .addSecuritySchemes(
                    BEARER,
                    new SecurityScheme()
                        .type(SecurityScheme.Type.HTTP)
                        .scheme("bearer")
                        .description("a session token from register/login, or a personal token")))
        .addSecurityItem(new SecurityRequirement().addList(BEARER));
  }

  /** Summaries and tags for operations that do not name their own. */
  @Bean
  GlobalOperationCustomizer chorusOperationDefaults() {
    return (operation, handler) -> {
      String resource = resourceOf(handler.getBeanType().getSimpleName());
      if (operation.getSummary() == null || operation.getSummary().isBlank()) {
        operation.setSummary(words(handler.getMethod().getName()) + " (" + resource + ")");
      }
      if (handler.getMethod().getName().equals(operation.getOperationId())) {
        // "list", "get" are everywhere: qualify them so generated clients get distinct names.
        operation.setOperationId(
            handler.getMethod().getName()
                + handler.getBeanType().getSimpleName().replaceAll("Controller$", ""));
      }
      if (operation.getTags() == null
          || operation.getTags().stream().allMatch(t -> t.endsWith("-controller"))) {
        operation.setTags(List.of(resource));
      }
      return operation;
    };
  }

  /** Security and error responses, decided per path and method once all operations exist. */
  @Bean
  GlobalOpenApiCustomizer chorusErrorResponses() {
    return openApi -> {
      // springdoc rebuilds the components from the controllers: the shared schema goes in here.
      if (openApi.getComponents() == null) {
        openApi.setComponents(new Components());
      }
      openApi.getComponents().addSchemas(PROBLEM, problemSchema());
      // Agents are shared-model records (no annotations there): their example is given here, so
      // Swagger UI and the tests' generated bodies name an agent that exists everywhere.
      var agent = openApi.getComponents().getSchemas().get("AgentSpec");
      if (agent != null && agent.getExample() == null) {
        agent.setExample(Map.of("provider", "mock", "model", "mock-1"));
      }
      if (openApi.getPaths() == null) {
        return;
      }
      openApi
          .getPaths()
          .forEach((path, item) ->
              item.readOperationsMap()
                  .forEach((method, operation) -> describe(path, method, operation)));
    };
  }

  private static void describe(String path, PathItem.HttpMethod method, Operation operation) {
    boolean isPublic = PUBLIC.contains(method.name() + " " + path);
    if (isPublic) {
      operation.setSecurity(List.of());
    }
    ApiResponses responses = operation.getResponses();
    if (responses == null) {
      responses = new ApiResponses();
      operation.setResponses(responses);
    }
    boolean hasBody = operation.getRequestBody() != null;
    boolean hasInput =
        hasBody || (operation.getParameters() != null && !operation.getParameters().isEmpty());
    if (hasInput) {
      error(responses, "400", "invalid input: malformed JSON, wrong types, invalid fields");
    }
    if (!isPublic) {
      error(responses, "401", "no valid bearer token");
    }
    if (path.contains("{")) {
      error(responses, "404", "no such object, or another user's");
    }
    if (hasBody) {
      error(responses, "413", "the request body is larger than the server accepts");
      error(responses, "415", "the request body is not JSON");
    }
    error(responses, "500", "an unexpected server error (reported with an error id)");
  }

  private static void error(ApiResponses responses, String status, String description) {
    if (responses.containsKey(status)) {
      return;
    }
    responses.addApiResponse(
        status,
        new ApiResponse()
            .description(description)
            .content(
                new Content()
                    .addMediaType(
                        PROBLEM_JSON,
                        new MediaType()
                            .schema(new Schema<>().$ref("#/components/schemas/" + PROBLEM)))));
  }

  private static ObjectSchema problemSchema() {
    ObjectSchema fieldError = new ObjectSchema();
    fieldError.addProperty("field", new StringSchema().example("content"));
    fieldError.addProperty("message", new StringSchema().example("must not be blank"));
    ObjectSchema problem = new ObjectSchema();
    problem.setDescription("RFC 9457 problem details");
    problem.addProperty(
        "type", new StringSchema().format("uri").example("https://chorus.dev/problems/validation"));
    problem.addProperty("title", new StringSchema().example("Bad Request"));
    problem.addProperty("status", new IntegerSchema().example(400));
    problem.addProperty("detail", new StringSchema().example("the request has invalid fields"));
    problem.addProperty("instance", new StringSchema().format("uri-reference"));
    problem.addProperty(
        "errors",
        new ArraySchema()
            .items(fieldError)
            .description("one entry per invalid field (validation problems only)"));
    problem.setRequired(List.of("type", "title", "status"));
    problem.setExample(
        Map.of(
            "type", "https://chorus.dev/problems/validation",
            "title", "Bad Request",
            "status", 400,
            "detail", "the request has invalid fields",
            "errors", List.of(Map.of("field", "content", "message", "must not be blank"))));
    return problem;
  }

  /** "ConversationController" → "conversation", "MessageController" → "message". */
  static String resourceOf(String controller) {
    String base = controller.replaceAll("Controller$", "");
    return words(base);
  }

  /** "listMessages" → "list messages". */
  static String words(String camel) {
    String spaced = camel.replaceAll("([a-z0-9])([A-Z])", "$1 $2").toLowerCase(Locale.ROOT);
    return spaced.isEmpty()
        ? spaced
        : Character.toUpperCase(spaced.charAt(0)) + spaced.substring(1);
  }
}
