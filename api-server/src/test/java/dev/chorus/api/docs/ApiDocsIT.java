package dev.chorus.api.docs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.chorus.api.support.OpenApiDoc;
import dev.chorus.api.support.Stack;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.ActiveProfiles;

/** The OpenAPI document and Swagger UI: public, complete and consistent for every route. */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@ActiveProfiles("test")
class ApiDocsIT {
  @LocalServerPort int port;

  @BeforeAll
  static void stackIsUp() {
    Stack.require();
  }

  @Test
  void everyOperationIsDocumentedAlike() {
    OpenApiDoc doc = OpenApiDoc.fetch(port);
    var root = doc.root();
    assertThat(root.at("/components/securitySchemes/bearer/scheme").asText()).isEqualTo("bearer");
    assertThat(root.at("/components/schemas/Problem/properties").has("errors")).isTrue();
    List<String> problems = new ArrayList<>();
    for (var op : doc.operations()) {
      if (op.node().path("summary").asText().isBlank()) {
        problems.add(op.key() + ": no summary");
      }
      boolean isPublic = OpenApiConfig.PUBLIC.contains(op.key());
      if (isPublic != (op.node().has("security") && op.node().get("security").isEmpty())) {
        problems.add(op.key() + ": security does not match SecurityConfig");
      }
      var responses = op.node().path("responses");
      if (!isPublic && !responses.path("401").path("content").has(OpenApiConfig.PROBLEM_JSON)) {
        problems.add(op.key() + ": 401 is not documented as problem+json");
      }
      if (op.path().contains("{") && !responses.has("404")) {
        problems.add(op.key() + ": 404 is not documented");
      }
      if (op.hasBody() && !responses.has("413")) {
        problems.add(op.key() + ": 413 is not documented");
      }
    }
    assertThat(problems).isEmpty();

    var put =
        doc.operations().stream()
            .filter(o -> o.key().equals("PUT /api/me/credentials/{provider}"))
            .findFirst()
            .orElseThrow();
    assertThat(put.node().at("/requestBody/required").asBoolean()).isTrue();
    assertThat(doc.sampleBody(put).has("apiKey")).isTrue();
    var send =
        doc.operations().stream()
            .filter(o -> o.key().equals("POST /api/conversations/{conversationId}/messages"))
            .findFirst()
            .orElseThrow();
    assertThat(doc.sampleBody(send).path("agents").size()).isPositive();
  }

  @Test
  void swaggerUiIsPublicAtDocs() throws Exception {
    var http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NORMAL).build();
    var response =
        http.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/docs")).build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.body()).contains("swagger-ui");
    var config =
        http.send(
            HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + port + "/v3/api-docs/swagger-config"))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(config.statusCode()).isEqualTo(200);
    assertThat(config.body()).contains("/v3/api-docs");
  }
}
