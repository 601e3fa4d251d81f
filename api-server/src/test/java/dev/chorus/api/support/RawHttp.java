package dev.chorus.api.support;

import dev.chorus.model.json.ChorusJson;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;

/** Plain requests whose headers a test needs to see (ApiClient keeps only the body). */
public final class RawHttp {
  private static final HttpClient HTTP = HttpClient.newHttpClient();

  private RawHttp() {}

  public static HttpResponse<String> post(int port, String path, Object body) {
    try {
      return send(
          HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
              .header("Content-Type", "application/json")
              .POST(
                  HttpRequest.BodyPublishers.ofString(
                      ChorusJson.mapper().writeValueAsString(body))),
          Map.of());
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  public static HttpResponse<String> send(
      HttpRequest.Builder builder, Map<String, String> headers) {
    headers.forEach(builder::header);
    try {
      return HTTP.send(
          builder.timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new IllegalStateException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
