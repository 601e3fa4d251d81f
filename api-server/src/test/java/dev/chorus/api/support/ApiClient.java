package dev.chorus.api.support;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.chorus.model.json.ChorusJson;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.UUID;

/** A plain HTTP client for the REST API, as a script would use it. */
public final class ApiClient {
  public record Response(int status, String contentType, JsonNode body) {}

  private static final ObjectMapper JSON = ChorusJson.mapper();
  private final HttpClient http = HttpClient.newHttpClient();
  private final String base;

  public ApiClient(int port) {
    this.base = "http://127.0.0.1:" + port;
  }

  public String base() {
    return base;
  }

  public Response call(String method, String path, String token, Object body) {
    return call(method, path, token, body, java.util.Map.of());
  }

  public Response call(
      String method,
      String path,
      String token,
      Object body,
      java.util.Map<String, String> headers) {
    try {
      var builder = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(30));
      if (token != null) {
        builder.header("Authorization", "Bearer " + token);
      }
      headers.forEach(builder::header);
      if (body != null) {
        builder.header("Content-Type", "application/json");
        String text = body instanceof String s ? s : JSON.writeValueAsString(body);
        builder.method(method, HttpRequest.BodyPublishers.ofString(text));
      } else {
        builder.method(method, HttpRequest.BodyPublishers.noBody());
      }
      var response = http.send(builder.build(), HttpResponse.BodyHandlers.ofString());
      JsonNode json = response.body().isEmpty() ? null : JSON.readTree(response.body());
      return new Response(
          response.statusCode(), response.headers().firstValue("Content-Type").orElse(""), json);
    } catch (IOException e) {
      throw new IllegalStateException(method + " " + path + " failed", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** Registers a fresh user and returns its bearer token. */
  public String register() {
    var response =
        call(
            "POST",
            "/api/auth/register",
            null,
            java.util.Map.of(
                "email",
                "user-" + UUID.randomUUID() + "@example.com",
                "password",
                "correct horse"));
    if (response.status() != 201) {
      throw new AssertionError("register failed: " + response);
    }
    return response.body().get("token").asText();
  }

  /** Sends a message asked of {@code agents}; fails unless it is accepted (202). */
  public Response sendMessage(
      String token, UUID conversationId, String content, java.util.List<?> agents) {
    var response =
        call(
            "POST",
            "/api/conversations/" + conversationId + "/messages",
            token,
            java.util.Map.of("content", content, "agents", agents));
    if (response.status() != 202) {
      throw new AssertionError("send message failed: " + response);
    }
    return response;
  }

  public UUID createConversation(String token) {
    var response = call("POST", "/api/conversations", token, java.util.Map.of("title", "test"));
    if (response.status() != 201) {
      throw new AssertionError("create conversation failed: " + response);
    }
    return UUID.fromString(response.body().get("id").asText());
  }

  /** Posts a message ({@code body}: content, agents, policy) to a conversation. */
  public Response sendMessage(String token, UUID conversationId, Object body) {
    return call("POST", "/api/conversations/" + conversationId + "/messages", token, body);
  }
}
