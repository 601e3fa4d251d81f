package dev.chorus.api.support;

import org.springframework.jdbc.core.simple.JdbcClient;

/** Provider rows workers would have registered, for tests that run no worker. */
public final class TestProviders {
  private TestProviders() {}

  /** {@code mock} (takes no key) and {@code test-up} (an OpenAI-compatible one that takes keys). */
  public static void ensure(JdbcClient jdbc) {
    jdbc.sql(
            """
            INSERT INTO providers (id, kind, server_configured, health, health_detail, checked_at)
            VALUES ('mock', 'mock', true, 'UP', '2 models', now()),
                   ('test-up', 'openai-compatible', true, 'UP', '1 models', now())
            ON CONFLICT (id) DO NOTHING
            """)
        .update();
  }
}
