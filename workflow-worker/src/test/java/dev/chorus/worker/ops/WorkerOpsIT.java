package dev.chorus.worker.ops;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.chorus.model.json.ChorusJson;
import dev.chorus.worker.support.StackRequired;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.test.autoconfigure.actuate.observability.AutoConfigureObservability;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.ActiveProfiles;

/** The worker's actuator: readiness over PostgreSQL, Redis and Temporal, and Prometheus. */
@ExtendWith(StackRequired.class)
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@ActiveProfiles("test")
@AutoConfigureObservability(tracing = false)
class WorkerOpsIT {
  private static final HttpClient HTTP = HttpClient.newHttpClient();

  @LocalServerPort int port;

  private HttpResponse<String> get(String path) throws Exception {
    return HTTP.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
            .timeout(Duration.ofSeconds(30))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void readinessCoversPostgresRedisAndTemporal() throws Exception {
    // The first Temporal call of a fresh process also opens its gRPC channel: allow it a moment.
    Awaitility.await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> get("/actuator/health/readiness").statusCode() == 200);
    JsonNode body = ChorusJson.mapper().readTree(get("/actuator/health/readiness").body());
    for (String component : new String[] {"db", "redis", "temporal"}) {
      assertThat(body.at("/components/" + component + "/status").asText())
          .as(component)
          .isEqualTo("UP");
    }
    assertThat(get("/actuator/health/liveness").statusCode()).isEqualTo(200);
  }

  @Test
  void prometheusIsExposed() throws Exception {
    var scrape = get("/actuator/prometheus");
    assertThat(scrape.statusCode()).isEqualTo(200);
    assertThat(scrape.body()).contains("application=\"chorus-worker\"").contains("jvm_threads");
  }
}
