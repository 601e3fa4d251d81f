package dev.chorus.api.support;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * The real processes end-to-end tests share (started once per test JVM, stopped at its exit): the
 * worker and api-server jars as separate JVMs against the real PostgreSQL, Redis and Temporal dev
 * server, plus a fake OpenAI-compatible server the worker knows as provider {@code fakeai}.
 */
public final class ChorusProcesses {
  public static final Path LOGS = Path.of("target", "e2e-logs");

  /** The master key both processes use to seal and open users' provider keys. */
  public static final String MASTER_KEYS =
      "e2e:" + java.util.Base64.getEncoder().encodeToString(new byte[32]);

  /** The server-owned key of provider {@code fakeai}. */
  public static final String FAKEAI_SERVER_KEY = "sk-server-owned-e2e-0123456789";

  private static ChorusProcesses instance;

  private final List<Process> processes = new ArrayList<>();
  private final FakeLlm fakeLlm = new FakeLlm();
  private final int apiPort;
  private final int workerPort;

  public static synchronized ChorusProcesses get() {
    if (instance == null) {
      instance = new ChorusProcesses();
      Runtime.getRuntime().addShutdownHook(new Thread(instance::stop));
      instance.start();
    }
    return instance;
  }

  private ChorusProcesses() {
    apiPort = freePort();
    workerPort = freePort();
  }

  public int apiPort() {
    return apiPort;
  }

  public FakeLlm fakeLlm() {
    return fakeLlm;
  }

  /** Everything both processes printed so far (to check that no secret was ever logged). */
  public String logs() {
    StringBuilder all = new StringBuilder();
    for (String name : List.of("worker", "api-server")) {
      try {
        all.append(Files.readString(LOGS.resolve(name + ".log"), StandardCharsets.UTF_8));
      } catch (IOException e) {
        throw new AssertionError("cannot read " + name + " log", e);
      }
    }
    return all.toString();
  }

  private void start() {
    Stack.require();
    try {
      Files.createDirectories(LOGS);
      Map<String, String> env = new HashMap<>();
      env.put("DATABASE_URL", Stack.JDBC_URL);
      env.put("REDIS_URL", Stack.REDIS_URL);
      env.put("TEMPORAL_ADDRESS", Stack.TEMPORAL_ADDRESS);
      env.put("TEMPORAL_NAMESPACE", Stack.TEMPORAL_NAMESPACE);
      env.put("CHORUS_KEY_PREFIX", "e2e-" + UUID.randomUUID());
      env.put("CHORUS_MOCK_TOKEN_DELAY", "10ms");
      env.put("CHORUS_MASTER_KEYS", MASTER_KEYS);
      // The fake provider listens on loopback: let users' base URLs reach it in this test only.
      env.put("CHORUS_EGRESS_ALLOW", "127.0.0.1");
      env.put("CHORUS_PROVIDERS_COMPATIBLE_FAKEAI_BASEURL", fakeLlm.baseUrl());
      env.put("CHORUS_PROVIDERS_COMPATIBLE_FAKEAI_APIKEY", FAKEAI_SERVER_KEY);
      // No real provider is ever called from a test, whatever the developer's shell exports.
      for (String key :
          List.of("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GEMINI_API_KEY", "OLLAMA_BASE_URL")) {
        env.put(key, "");
      }
      env.put("PORT", Integer.toString(apiPort));
      env.put("WORKER_PORT", Integer.toString(workerPort));
      launch("worker", System.getProperty("chorus.e2e.workerJar"), env);
      launch("api-server", System.getProperty("chorus.e2e.apiJar"), env);
      awaitHealthy("worker", workerPort);
      awaitHealthy("api-server", apiPort);
    } catch (IOException e) {
      throw new AssertionError("could not start the processes", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  private void stop() {
    for (Process process : processes) {
      process.destroy();
    }
    for (Process process : processes) {
      try {
        if (!process.waitFor(20, TimeUnit.SECONDS)) {
          process.destroyForcibly();
        }
      } catch (InterruptedException e) {
        process.destroyForcibly();
      }
    }
    fakeLlm.close();
  }

  private void launch(String name, String jar, Map<String, String> env) throws IOException {
    if (jar == null || !Files.exists(Path.of(jar))) {
      throw new AssertionError(
          name + " jar not found at " + jar + ": run the full build (infra/test.sh or mvn verify)");
    }
    String java = ProcessHandle.current().info().command().orElse("java");
    var builder =
        new ProcessBuilder(java, "-Xmx512m", "-jar", jar)
            .redirectErrorStream(true)
            .redirectOutput(LOGS.resolve(name + ".log").toFile());
    builder.environment().putAll(env);
    processes.add(builder.start());
  }

  private void awaitHealthy(String name, int port) throws IOException, InterruptedException {
    var http = HttpClient.newHttpClient();
    var request =
        HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + port + "/actuator/health/readiness"))
            .timeout(Duration.ofSeconds(2))
            .build();
    long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
    while (System.nanoTime() < deadline) {
      for (Process p : processes) {
        if (!p.isAlive()) {
          throw new AssertionError(
              name + " exited early; see " + LOGS.resolve(name + ".log").toAbsolutePath());
        }
      }
      try {
        if (http.send(request, HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
          return;
        }
      } catch (IOException notYet) {
        // Still starting.
      }
      TimeUnit.MILLISECONDS.sleep(250);
    }
    throw new AssertionError(
        name + " not healthy in 120 s; see " + LOGS.resolve(name + ".log").toAbsolutePath());
  }

  private static int freePort() {
    try (var socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }
}
