package dev.chorus.api.query;

import static org.assertj.core.api.Assertions.assertThat;

import dev.chorus.api.support.ApiClient;
import dev.chorus.api.support.Stack;
import dev.chorus.model.agent.AgentSpec;
import dev.chorus.model.workflow.ChatQueryInput;
import dev.chorus.model.workflow.QueryPolicy;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.ActiveProfiles;

/**
 * A query whose workflow start was lost is started later by the sweeper from its row: the row must
 * carry the policy validated at send time, or a debate or deadline would silently be dropped.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@ActiveProfiles("test")
class QueryPolicyStoreIT {
  @LocalServerPort int port;
  @Autowired QueryStore queries;

  @BeforeAll
  static void stackIsUp() {
    Stack.require();
  }

  @Test
  void theSweepersInputCarriesThePolicyTheQueryWasSentWith() {
    var api = new ApiClient(port);
    String token = api.register();
    UUID conversationId = api.createConversation(token);
    UUID userId =
        UUID.fromString(api.call("GET", "/api/me", token, null).body().get("id").asText());
    List<AgentSpec> agents =
        List.of(
            new AgentSpec("mock", "alpha", "alpha", null, null, null),
            new AgentSpec("mock", "beta", "beta", null, null, null));
    QueryPolicy debate = new QueryPolicy(120, null, null, QueryPolicy.DEBATE, 3, "beta");

    UUID withPolicy = UUID.randomUUID();
    var message = queries.insertUserMessage(conversationId, "Debate this", null);
    queries.insertQuery(withPolicy, conversationId, userId, message.id(), agents, debate, null);
    UUID withoutPolicy = UUID.randomUUID();
    var second = queries.insertUserMessage(conversationId, "Just answer", message.id());
    queries.insertQuery(withoutPolicy, conversationId, userId, second.id(), agents, null, null);

    List<ChatQueryInput> stale = queries.stalePending(Instant.now().plusSeconds(5), 100_000);

    assertThat(stale)
        .filteredOn(input -> input.queryId().equals(withPolicy))
        .singleElement()
        .satisfies(input -> {
          assertThat(input.policy()).isEqualTo(debate);
          assertThat(input.agents()).isEqualTo(agents);
        });
    assertThat(stale)
        .filteredOn(input -> input.queryId().equals(withoutPolicy))
        .singleElement()
        .satisfies(input -> assertThat(input.policy()).isNull());
  }
}
