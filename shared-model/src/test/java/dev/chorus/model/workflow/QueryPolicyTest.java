package dev.chorus.model.workflow;

import static org.assertj.core.api.Assertions.assertThat;

import dev.chorus.model.json.ChorusJson;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class QueryPolicyTest {
  @Test
  void aPolicyFromBeforeDebatesStillReadsAndAsksNoDebate() throws Exception {
    QueryPolicy policy =
        ChorusJson.mapper().readValue("{\"deadlineSeconds\":30,\"quorum\":2}", QueryPolicy.class);

    assertThat(policy).isEqualTo(new QueryPolicy(30, 2, null));
    assertThat(policy.debates()).isFalse();
    assertThat(policy.limitsWaiting()).isTrue();
    assertThat(new QueryPolicy(null, null, null).asksNothing()).isTrue();
  }

  @Test
  void aDebatePolicyReadsWithItsDefaults() throws Exception {
    QueryPolicy policy = ChorusJson.mapper().readValue("{\"mode\":\"debate\"}", QueryPolicy.class);

    assertThat(policy.debates()).isTrue();
    assertThat(policy.asksNothing()).isFalse();
    assertThat(policy.limitsWaiting()).isFalse();
    assertThat(policy.roundCount()).isEqualTo(QueryPolicy.DEFAULT_ROUNDS);
    assertThat(
            ChorusJson.mapper()
                .readValue(
                    "{\"mode\":\"debate\",\"rounds\":4,\"synthesizer\":\"critic\"}",
                    QueryPolicy.class))
        .isEqualTo(QueryPolicy.debate(4, "critic"));
  }

  @Test
  void aTaskWithoutDebateReadsAsBeforeAndADebateStepRoundTrips() throws Exception {
    var mapper = ChorusJson.mapper();
    UUID id = UUID.randomUUID();
    String old =
        "{\"queryId\":\""
            + id
            + "\",\"agent\":{\"provider\":\"mock\",\"model\":\"m\",\"name\":\"a\"},\"handover\":null}";
    AgentTask task = mapper.readValue(old, AgentTask.class);
    assertThat(task.debates()).isFalse();

    AgentTask step =
        new AgentTask(
            id,
            id,
            id,
            task.agent().withName("a · round 2"),
            id,
            null,
            new AgentTask.Debate(2, "a", "a", List.of("a", "b"), false));
    assertThat(mapper.readValue(mapper.writeValueAsString(step), AgentTask.class)).isEqualTo(step);
    assertThat(step.handedOver(task.agent(), null).debate()).isEqualTo(step.debate());
  }
}
