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

  private static final Duration START_TIMEOUT =
      Duration.ofSeconds(Long.getLong("chorus.e2e.start-timeout-seconds", 300));

  private static ChorusProcesses instance;

  private final List<Process> processes = new ArrayList<>();
  private final FakeLlm fakeLlm = new FakeLlm();
  private final int apiPort;
  private final int workerPort;
  private final Map<String, String> env = new HashMap<>();
  private Process worker;
  private Process api;

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

  /** The Redis key prefix both processes use (each run has its own). */
  public String keyPrefix() {
    return env.get("CHORUS_KEY_PREFIX");
  }

  /**
   * Starts one more api-server (same jar and environment, its own port) against the same
   * PostgreSQL, Redis and Temporal, as a scaled-out deployment runs; stopped with the others.
   */
  public synchronized int startExtraApi() {
    int port = freePort();
    try {
      launch(
          "api-server-" + port,
          System.getProperty("chorus.e2e.apiJar"),
          false,
          Map.of("PORT", Integer.toString(port)));
      awaitHealthy("api-server-" + port, port);
      return port;
    } catch (IOException e) {
      throw new AssertionError("could not start another api-server", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
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
      worker = launch("worker", System.getProperty("chorus.e2e.workerJar"), false);
      api = launch("api-server", System.getProperty("chorus.e2e.apiJar"), false);
      awaitHealthy("worker", workerPort);
      awaitHealthy("api-server", apiPort);
    } catch (IOException e) {
      throw new AssertionError("could not start the processes", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  private synchronized void stop() {
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

  /**
   * Kills the worker with SIGKILL (what {@link Process#destroyForcibly()} sends on Linux, checked
   * by the exit status 128 + 9): no shutdown hook, no goodbye to Temporal, an activity cut
   * mid-stream. Its heartbeats stop, so Temporal moves the attempt once the heartbeat timeout
   * passes.
   */
  public synchronized void killWorker() {
    if (worker == null || !worker.isAlive()) {
      throw new AssertionError("the worker is not running");
    }
    Process dead = worker;
    dead.destroyForcibly();
    try {
      if (!dead.waitFor(10, TimeUnit.SECONDS)) {
        throw new AssertionError("the worker (pid " + dead.pid() + ") survived SIGKILL for 10 s");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
    if (dead.exitValue() != 128 + 9) {
      throw new AssertionError("the worker did not die of SIGKILL: exit " + dead.exitValue());
    }
    processes.remove(dead);
    worker = null;
  }

  /** Starts the worker again (same jar, environment and port; its log is appended to). */
  public synchronized void startWorker() {
    if (worker != null && worker.isAlive()) {
      throw new AssertionError("the worker is running already (pid " + worker.pid() + ")");
    }
    try {
      worker = launch("worker", System.getProperty("chorus.e2e.workerJar"), true);
      awaitHealthy("worker", workerPort);
    } catch (IOException e) {
      throw new AssertionError("could not start the worker", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  /**
   * Restarts the api-server as a deployment would: SIGTERM (Spring's graceful shutdown; SIGKILL
   * after 30 s), then the same jar on the same port, awaiting readiness. WebSocket clients are
   * dropped and must reconnect.
   */
  public synchronized void restartApi() {
    try {
      if (api != null) {
        Process old = api;
        old.destroy();
        if (!old.waitFor(30, TimeUnit.SECONDS)) {
          old.destroyForcibly();
          old.waitFor(10, TimeUnit.SECONDS);
        }
        processes.remove(old);
        api = null;
      }
      api = launch("api-server", System.getProperty("chorus.e2e.apiJar"), true);
      awaitHealthy("api-server", apiPort);
    } catch (IOException e) {
      throw new AssertionError("could not restart the api-server", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  /** Starts whichever of worker and api-server is not running (a failed crash test's leftovers). */
  public synchronized void ensureRunning() {
    if (worker == null || !worker.isAlive()) {
      if (worker != null) {
        processes.remove(worker);
      }
      worker = null;
      startWorker();
    }
    if (api == null || !api.isAlive()) {
      restartApi();
    }
  }

  /**
   * Restarts the shared Temporal dev server through {@code infra/stack.sh restart-service temporal}
   * (its SQLite file keeps every workflow) and waits until it serves again. The script works on the
   * state folder of the checkout, or on {@code CHORUS_STATE_DIR} when set (a test run from a copy
   * of the repository against the services of another). Every process connected to it, other test
   * runs' included, sees a short outage.
   */
  public void restartTemporal() {
    restartTemporal(Duration.ZERO);
  }

  /** Like {@link #restartTemporal()}, the server staying down for {@code down} in between. */
  public void restartTemporal(Duration down) {
    Path script = Path.of("..", "infra", "stack.sh").toAbsolutePath().normalize();
    if (!Files.isExecutable(script)) {
      throw new AssertionError("cannot restart Temporal: " + script + " not found");
    }
    Path log = LOGS.resolve("stack.log");
    try {
      Process process =
          new ProcessBuilder(
                  "bash",
                  script.toString(),
                  "restart-service",
                  "temporal",
                  Long.toString(down.toSeconds()))
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
              .start();
      if (!process.waitFor(120 + down.toSeconds(), TimeUnit.SECONDS)) {
        process.destroyForcibly();
        throw new AssertionError("Temporal restart took too long; see " + log.toAbsolutePath());
      }
      if (process.exitValue() != 0) {
        throw new AssertionError(
            "infra/stack.sh restart-service temporal failed (exit "
                + process.exitValue()
                + "): "
                + Files.readString(log, StandardCharsets.UTF_8));
      }
      // The script waited for health and namespaces; check from here too.
      long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
      while (true) {
        try {
          Stack.require();
          return;
        } catch (AssertionError notYet) {
          if (System.nanoTime() > deadline) {
            throw notYet;
          }
          TimeUnit.MILLISECONDS.sleep(250);
        }
      }
    } catch (IOException e) {
      throw new AssertionError("could not run " + script, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  private Process launch(String name, String jar, boolean append) throws IOException {
    return launch(name, jar, append, Map.of());
  }

  private Process launch(String name, String jar, boolean append, Map<String, String> overrides)
      throws IOException {
    if (jar == null || !Files.exists(Path.of(jar))) {
      throw new AssertionError(
          name + " jar not found at " + jar + ": run the full build (infra/test.sh or mvn verify)");
    }
    String java = ProcessHandle.current().info().command().orElse("java");
    var file = LOGS.resolve(name + ".log").toFile();
    var builder =
        new ProcessBuilder(java, "-Xmx512m", "-jar", jar)
            .redirectErrorStream(true)
            .redirectOutput(
                append ? ProcessBuilder.Redirect.appendTo(file) : ProcessBuilder.Redirect.to(file));
    builder.environment().putAll(env);
    builder.environment().putAll(overrides);
    Process process = builder.start();
    processes.add(process);
    return process;
  }

  private void awaitHealthy(String name, int port) throws IOException, InterruptedException {
    var http = HttpClient.newHttpClient();
    var request =
        HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + port + "/actuator/health/readiness"))
            .timeout(Duration.ofSeconds(2))
            .build();
    // A loaded machine (parallel builds on few cores) can take minutes to start a JVM.
    long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
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
        name
            + " not healthy in "
            + START_TIMEOUT.toSeconds()
            + " s; see "
            + LOGS.resolve(name + ".log").toAbsolutePath());
  }

  private static int freePort() {
    try (var socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }
}
