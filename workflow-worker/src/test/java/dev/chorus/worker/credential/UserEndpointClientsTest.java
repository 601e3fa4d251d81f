package dev.chorus.worker.credential;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.chorus.model.net.EgressPolicy;
import java.io.IOException;
import java.net.InetAddress;
import java.util.List;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Real HTTP against local servers: a client for user-supplied base URLs must not reach loopback
 * unless an operator allowlisted it, and must not follow a redirect anywhere.
 */
class UserEndpointClientsTest {
  private final MockWebServer server = new MockWebServer();
  private final MockWebServer internal = new MockWebServer();
  private final OkHttpClient base = new OkHttpClient();

  @BeforeEach
  void start() throws IOException {
    server.start(InetAddress.getByName("127.0.0.1"), 0);
    // Another loopback address (Linux routes all of 127/8 to lo): what "localhost" resolves to
    // must not open the door to every loopback service.
    internal.start(InetAddress.getByName("127.0.0.2"), 0);
  }

  @AfterEach
  void stop() {
    server.close();
    internal.close();
  }

  private OkHttpClient client(String... allow) {
    return new UserEndpointClients(EgressPolicy.of(List.of(allow))).userEndpointClient(base);
  }

  private static Response get(OkHttpClient client, String url) throws IOException {
    return client.newCall(new Request.Builder().url(url).build()).execute();
  }

  private String url(MockWebServer s, String host, String path) {
    return "http://" + host + ":" + s.getPort() + path;
  }

  @Test
  void refusesLoopbackByAddressAndByName() {
    OkHttpClient client = client();
    assertThatThrownBy(() -> get(client, url(server, "127.0.0.1", "/v1/models")))
        .isInstanceOf(EgressRefusedException.class)
        .hasMessageContaining("a loopback address 127.0.0.1");
    assertThatThrownBy(() -> get(client, url(server, "localhost", "/v1/models")))
        .isInstanceOf(EgressRefusedException.class)
        .hasMessageContaining("egress to localhost refused")
        .hasMessageContaining("loopback");
    assertThatThrownBy(() -> get(client, url(server, "[::ffff:127.0.0.1]", "/v1/models")))
        .isInstanceOf(EgressRefusedException.class);
    assertThatThrownBy(() -> get(client, url(server, "2130706433", "/v1/models")))
        .isInstanceOf(EgressRefusedException.class);
    assertThatThrownBy(() -> get(client, url(server, "0x7f.0.0.1", "/v1/models")))
        .isInstanceOf(EgressRefusedException.class);
    assertThat(server.getRequestCount()).isZero();
  }

  @Test
  void reachesLoopbackOnlyWhenAllowlisted() throws IOException {
    server.enqueue(new MockResponse.Builder().body("{\"data\":[]}").build());
    server.enqueue(new MockResponse.Builder().body("{\"data\":[]}").build());
    try (Response response = get(client("127.0.0.1/32"), url(server, "127.0.0.1", "/v1/models"))) {
      assertThat(response.code()).isEqualTo(200);
    }
    try (Response response = get(client("localhost"), url(server, "localhost", "/v1/models"))) {
      assertThat(response.code()).isEqualTo(200);
    }
    assertThat(server.getRequestCount()).isEqualTo(2);
  }

  @Test
  void doesNotFollowARedirectToMetadataOrLoopback() throws IOException {
    server.enqueue(
        new MockResponse.Builder()
            .code(302)
            .addHeader("Location", "http://169.254.169.254/latest/meta-data/iam/")
            .build());
    server.enqueue(
        new MockResponse.Builder()
            .code(307)
            .addHeader("Location", url(internal, "127.0.0.2", "/admin"))
            .build());
    OkHttpClient client = client("localhost");
    try (Response response = get(client, url(server, "localhost", "/v1/chat"))) {
      assertThat(response.code()).isEqualTo(302);
      assertThat(response.priorResponse()).isNull();
    }
    try (Response response = get(client, url(server, "localhost", "/v1/chat"))) {
      assertThat(response.code()).isEqualTo(307);
    }
    assertThat(internal.getRequestCount()).isZero();
  }

  @Test
  void evenWithRedirectsTurnedBackOnTheTargetIsChecked() {
    server.enqueue(
        new MockResponse.Builder()
            .code(302)
            .addHeader("Location", url(internal, "127.0.0.2", "/admin"))
            .build());
    OkHttpClient careless = client("localhost").newBuilder().followRedirects(true).build();
    assertThatThrownBy(() -> get(careless, url(server, "localhost", "/v1/chat")))
        .isInstanceOf(EgressRefusedException.class)
        .hasMessageContaining("a loopback address 127.0.0.2");
    assertThat(server.getRequestCount()).isEqualTo(1);
    assertThat(internal.getRequestCount()).isZero();
  }

  @Test
  void aNameThatRebindsToLoopbackIsRefusedAtConnectTime() {
    // Public when the URL was saved; loopback when the worker connects.
    OkHttpClient rebinding =
        base.newBuilder()
            .dns(host -> List.of(InetAddress.getByAddress(host, new byte[] {127, 0, 0, 1})))
            .build();
    OkHttpClient client =
        new UserEndpointClients(EgressPolicy.of(List.of())).userEndpointClient(rebinding);
    assertThatThrownBy(() -> get(client, url(server, "models.example.com", "/v1/models")))
        .isInstanceOf(EgressRefusedException.class)
        .hasMessageContaining("egress to models.example.com refused")
        .hasMessageContaining("a loopback address 127.0.0.1");
    assertThat(server.getRequestCount()).isZero();
  }
}
