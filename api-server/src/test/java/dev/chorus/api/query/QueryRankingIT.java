package dev.chorus.api.query;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.chorus.api.support.ApiClient;
import dev.chorus.api.support.Stack;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.test.context.ActiveProfiles;

/**
 * GET /api/queries/{id} shows the summaries and ranking the worker persisted (rows written here as
 * the ranking activity writes them), best first.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@ActiveProfiles("test")
class QueryRankingIT {
  @LocalServerPort int port;
  @Autowired JdbcClient jdbc;

  @BeforeAll
  static void stackIsUp() {
    Stack.require();
  }

  @Test
  void aRankedQueryShowsItsSummariesAndRankingBestFirst() {
    var api = new ApiClient(port);
    String token = api.register();
    UUID conversationId = api.createConversation(token);
    UUID userId =
        UUID.fromString(api.call("GET", "/api/me", token, null).body().get("id").asText());
    UUID queryId = UUID.randomUUID();
    UUID messageId = UUID.randomUUID();
    jdbc.sql(
            """
            INSERT INTO messages (id, conversation_id, role, content, query_id)
            VALUES (:id, :conversation, 'user', 'Why is the sky blue?', :query)
            """)
        .param("id", messageId)
        .param("conversation", conversationId)
        .param("query", queryId)
        .update();
    jdbc.sql(
            """
            INSERT INTO queries (id, conversation_id, user_id, message_id, status, agents, workflow_id)
            VALUES (:id, :conversation, :user, :message, 'COMPLETED', '[]'::jsonb, :workflow)
            """)
        .param("id", queryId)
        .param("conversation", conversationId)
        .param("user", userId)
        .param("message", messageId)
        .param("workflow", "query-" + queryId)
        .update();
    for (String agent : List.of("mock/alpha", "mock/beta")) {
      jdbc.sql(
              """
              INSERT INTO responses (query_id, agent, provider, model, status, content)
              VALUES (:query, :agent, 'mock', 'm', 'COMPLETED', 'text')
              """)
          .param("query", queryId)
          .param("agent", agent)
          .update();
    }
    jdbc.sql(
            """
            INSERT INTO response_summaries (query_id, agent, summary, reasoning, key_points, method)
            VALUES (:q, 'mock/alpha', 'Alpha.', 'Rank 2 of 2: slowest.', '["a1"]', 'builtin'),
                   (:q, 'mock/beta', 'Beta.', 'Rank 1 of 2: fastest.', '["b1","b2"]', 'builtin')
            """)
        .param("q", queryId)
        .update();
    jdbc.sql(
            """
            INSERT INTO query_rankings (query_id, agent, rank, score, metrics, method)
            VALUES (:q, 'mock/alpha', 2, 0.4,
                    '{"cost": 1, "latency": 0.5, "agreement": 0.2, "relevance": 0.3, "completeness": 0.6}',
                    'builtin'),
                   (:q, 'mock/beta', 1, 0.75,
                    '{"cost": 1, "latency": 1, "agreement": 0.2, "relevance": 0.9, "completeness": 0.8}',
                    'builtin')
            """)
        .param("q", queryId)
        .update();

    JsonNode query = api.call("GET", "/api/queries/" + queryId, token, null).body();

    assertThat(query.get("summaries")).hasSize(2);
    assertThat(query.at("/summaries/0/agent").asText()).isEqualTo("mock/beta");
    assertThat(query.at("/summaries/0/summary").asText()).isEqualTo("Beta.");
    assertThat(query.at("/summaries/0/reasoning").asText()).isEqualTo("Rank 1 of 2: fastest.");
    assertThat(query.at("/summaries/0/keyPoints/1").asText()).isEqualTo("b2");
    assertThat(query.at("/summaries/1/agent").asText()).isEqualTo("mock/alpha");
    assertThat(query.get("ranking")).hasSize(2);
    assertThat(query.at("/ranking/0/agent").asText()).isEqualTo("mock/beta");
    assertThat(query.at("/ranking/0/rank").asInt()).isEqualTo(1);
    assertThat(query.at("/ranking/0/score").asDouble()).isEqualTo(0.75);
    assertThat(query.at("/ranking/1/metrics/latency").asDouble()).isEqualTo(0.5);
    List<String> metricNames = new ArrayList<>();
    query.at("/ranking/0/metrics").fieldNames().forEachRemaining(metricNames::add);
    // The documented order, whatever order jsonb keeps.
    assertThat(metricNames)
        .containsExactly("relevance", "agreement", "completeness", "latency", "cost");

    // A query not ranked yet has empty lists, not missing ones.
    jdbc.sql("DELETE FROM query_rankings WHERE query_id = :q").param("q", queryId).update();
    jdbc.sql("DELETE FROM response_summaries WHERE query_id = :q").param("q", queryId).update();
    JsonNode unranked = api.call("GET", "/api/queries/" + queryId, token, null).body();
    assertThat(unranked.get("summaries")).isEmpty();
    assertThat(unranked.get("ranking")).isEmpty();
  }
}
