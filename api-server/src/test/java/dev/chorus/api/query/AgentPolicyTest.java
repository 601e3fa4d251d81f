package dev.chorus.api.query;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.chorus.api.common.ApiException;
import dev.chorus.model.agent.AgentSpec;
import dev.chorus.model.workflow.QueryPolicy;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.springframework.http.HttpStatus;

/** {@link AgentPolicy#checkPolicy}: the policy rules that need no database or provider. */
class AgentPolicyTest {
  private static final AgentSpec ALPHA = new AgentSpec("mock", "alpha", "alpha", null, null, null);
  private static final AgentSpec BETA = new AgentSpec("mock", "beta", "beta", null, null, null);
  private static final List<AgentSpec> TWO = List.of(ALPHA, BETA);

  private final AgentPolicy policy = new AgentPolicy(new AgentProperties(List.of(), 8), null);

  private static QueryPolicy debate(Integer rounds, String synthesizer) {
    return QueryPolicy.debate(rounds, synthesizer);
  }

  @Test
  void aDebateGetsItsDefaultsFilledIn() {
    assertThat(policy.checkPolicy(debate(null, null), TWO))
        .isEqualTo(debate(QueryPolicy.DEFAULT_ROUNDS, "alpha"));
    assertThat(policy.checkPolicy(debate(5, "beta"), TWO)).isEqualTo(debate(5, "beta"));
    // A debate's deadline is kept: it bounds every round and the synthesis.
    assertThat(policy.checkPolicy(new QueryPolicy(60, null, null, "debate", 2, null), TWO))
        .isEqualTo(new QueryPolicy(60, null, null, "debate", 2, "alpha"));
    QueryPolicy withQuorum = new QueryPolicy(null, 1, 30, "debate", 3, null);
    assertThat(policy.checkPolicy(withQuorum, TWO))
        .isEqualTo(new QueryPolicy(null, 1, 30, "debate", 3, "alpha"));
  }

  @Test
  void theAnswerModeLooksAsBeforeDebatesExisted() {
    assertThat(policy.checkPolicy(new QueryPolicy(null, null, null, "answer", null, null), TWO))
        .isNull();
    assertThat(policy.checkPolicy(new QueryPolicy(30, null, null, "answer", null, null), TWO))
        .isEqualTo(new QueryPolicy(30, null, null));
    assertThat(policy.checkPolicy(new QueryPolicy(30, null, null), TWO))
        .isEqualTo(new QueryPolicy(30, null, null));
    assertThat(policy.checkPolicy(null, TWO)).isNull();
  }

  @Test
  void badDebatesAreRefusedAsInvalidPolicies() {
    assertInvalid(debate(null, null), List.of(ALPHA), "a debate needs at least 2 agents");
    assertInvalid(debate(1, null), TWO, "policy.rounds must be between 2 and 5");
    assertInvalid(debate(6, null), TWO, "policy.rounds must be between 2 and 5");
    assertInvalid(debate(2, "gamma"), TWO, "policy.synthesizer must name one of the agents");
    assertInvalid(
        new QueryPolicy(null, null, null, "vote", null, null),
        TWO,
        "policy.mode must be 'answer' or 'debate'");
    assertInvalid(
        new QueryPolicy(null, null, null, null, 3, null), TWO, "need policy.mode 'debate'");
    assertInvalid(
        new QueryPolicy(null, null, null, "answer", null, "alpha"),
        TWO,
        "need policy.mode 'debate'");
    assertInvalid(
        new QueryPolicy(2, null, null, "debate", 2, null), TWO, "policy.deadlineSeconds must be");
    assertInvalid(
        debate(2, null),
        List.of(ALPHA, BETA.withName("synthesis")),
        "no agent may be named 'synthesis'");
    assertInvalid(
        debate(2, null), List.of(ALPHA, BETA.withName("beta · round 2")), "'beta · round 2'");
    assertInvalid(
        new QueryPolicy(null, 3, null, "debate", 2, null), TWO, "policy.quorum must be between");
  }

  private void assertInvalid(QueryPolicy given, List<AgentSpec> agents, String detail) {
    assertThatThrownBy(() -> policy.checkPolicy(given, agents))
        .isInstanceOfSatisfying(
            ApiException.class,
            e -> {
              assertThat(e.status()).isEqualTo(HttpStatus.BAD_REQUEST);
              assertThat(e.type()).isEqualTo("invalid-policy");
            })
        .hasMessageContaining(detail);
  }
}
