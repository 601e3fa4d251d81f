package dev.chorus.api.support;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;

/** The real services tests run against, as started by {@code infra/stack.sh services}. */
public final class Stack {
  /** CHORUS_TEST_DB / CHORUS_TEST_REDIS_DB move a run to a database of its own (infra/test.sh). */
  public static final String JDBC_URL =
      "jdbc:postgresql://127.0.0.1:15432/" + env("CHORUS_TEST_DB", "chorus_test");

  public static final String REDIS_URL =
      "redis://127.0.0.1:16379/" + env("CHORUS_TEST_REDIS_DB", "1");
  public static final String TEMPORAL_ADDRESS = "127.0.0.1:7233";

  /**
   * The namespace end-to-end tests run in; {@code -Dchorus.test.temporal-namespace=...} moves a run
   * to another one, so two runs on one machine never take each other's tasks.
   */
  public static final String TEMPORAL_NAMESPACE =
      System.getProperty(
          "chorus.test.temporal-namespace", env("CHORUS_TEST_NAMESPACE", "chorus-test"));

  private Stack() {}

  private static String env(String name, String fallback) {
    String value = System.getenv(name);
    return value == null || value.isBlank() ? fallback : value;
  }

  /** Fails — never skips — when a service is down, saying how to start it. */
  public static void require() {
    check("PostgreSQL", 15432);
    check("Redis", 16379);
    check("Temporal", 7233);
  }

  /** The {@code temporal} CLI installed by the stack scripts (CHORUS_TEMPORAL_BIN overrides). */
  public static String temporalCli() {
    String configured = System.getenv("CHORUS_TEMPORAL_BIN");
    if (configured != null && !configured.isBlank()) {
      return configured;
    }
    String state = System.getenv().getOrDefault("CHORUS_STATE_DIR", "../.chorus");
    for (String candidate : new String[] {state + "/venv/bin/temporal", state + "/bin/temporal"}) {
      if (java.nio.file.Files.isExecutable(java.nio.file.Path.of(candidate))) {
        return candidate;
      }
    }
    throw new AssertionError(
        "temporal CLI not found: set CHORUS_TEMPORAL_BIN or run `infra/stack.sh install`");
  }

  private static void check(String name, int port) {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress("127.0.0.1", port), 2000);
    } catch (IOException e) {
      throw new AssertionError(
          name
              + " is not answering on 127.0.0.1:"
              + port
              + ". Start the stack with `infra/stack.sh services` (infra/test.sh does it for you).",
          e);
    }
  }
}
