package dev.chorus.api.query;

import dev.chorus.api.common.ApiException;
import dev.chorus.api.provider.ProviderCatalog;
import dev.chorus.model.agent.AgentSpec;
import dev.chorus.model.workflow.DebateNames;
import dev.chorus.model.workflow.QueryPolicy;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import org.springframework.http.HttpStatus;
import org.springframework.stereotype.Component;

/**
 * Validates agent lists and gives every agent a name that is unique within its query; validates a
 * query's policy (deadline, quorum, debate mode).
 */
@Component
public class AgentPolicy {
  static final int MAX_FIELD = 200;
  static final int MAX_SYSTEM_PROMPT = 20_000;
  static final int MAX_FALLBACKS = 3;

  private final AgentProperties properties;
  private final ProviderCatalog catalog;

  AgentPolicy(AgentProperties properties, ProviderCatalog catalog) {
    this.properties = properties;
    this.catalog = catalog;
  }

  public List<AgentSpec> defaults(UUID userId) {
    return normalize(userId, properties.defaultsOrMock());
  }

  /**
   * Checks every agent (fields, limits, and that {@code userId} may use its provider: the server
   * holds a key for it or the user stored one) and gives each a name unique within the list.
   */
  public List<AgentSpec> normalize(UUID userId, List<AgentSpec> agents) {
    if (agents.size() > properties.maxPerQuery()) {
      throw invalid("at most " + properties.maxPerQuery() + " agents per query");
    }
    Set<String> names = new HashSet<>();
    List<AgentSpec> out = new ArrayList<>(agents.size());
    for (AgentSpec agent : agents) {
      if (agent == null || blank(agent.provider()) || blank(agent.model())) {
        throw invalid("every agent needs a provider and a model");
      }
      checkProvider(userId, agent.provider());
      if (agent.model().length() > MAX_FIELD
          || (agent.name() != null && agent.name().length() > MAX_FIELD)) {
        throw invalid("agent model and name are limited to " + MAX_FIELD + " characters");
      }
      if (agent.systemPrompt() != null && agent.systemPrompt().length() > MAX_SYSTEM_PROMPT) {
        throw invalid("systemPrompt is limited to " + MAX_SYSTEM_PROMPT + " characters");
      }
      if (agent.temperature() != null && (agent.temperature() < 0 || agent.temperature() > 2)) {
        throw invalid("temperature must be between 0 and 2");
      }
      if (agent.maxTokens() != null && agent.maxTokens() < 1) {
        throw invalid("maxTokens must be positive");
      }
      List<AgentSpec.Fallback> fallbacks = checkFallbacks(userId, agent.fallbacks());
      String base = blank(agent.name()) ? agent.defaultName() : agent.name().trim();
      String name = base;
      for (int n = 2; !names.add(name); n++) {
        name = base + "#" + n;
      }
      out.add(
          new AgentSpec(
              agent.provider(),
              agent.model(),
              name,
              agent.systemPrompt(),
              agent.temperature(),
              agent.maxTokens(),
              fallbacks));
    }
    return out;
  }

  /**
   * Each fallback needs a provider the user may use, like the agent's own, and a model; at most
   * {@value #MAX_FALLBACKS}. Returns null for none, so agents without fallbacks look as before.
   */
  private List<AgentSpec.Fallback> checkFallbacks(UUID userId, List<AgentSpec.Fallback> fallbacks) {
    if (fallbacks == null || fallbacks.isEmpty()) {
      return null;
    }
    if (fallbacks.size() > MAX_FALLBACKS) {
      throw invalid("at most " + MAX_FALLBACKS + " fallbacks per agent");
    }
    for (AgentSpec.Fallback fallback : fallbacks) {
      if (fallback == null || blank(fallback.provider()) || blank(fallback.model())) {
        throw invalid("every fallback needs a provider and a model");
      }
      checkProvider(userId, fallback.provider());
      if (fallback.model().length() > MAX_FIELD) {
        throw invalid("fallback model is limited to " + MAX_FIELD + " characters");
      }
    }
    return List.copyOf(fallbacks);
  }

  /**
   * Checks a query's policy against the {@code agents} it will ask (normalized, see {@link
   * #normalize}): a deadline of {@value QueryPolicy#MIN_DEADLINE_SECONDS} to {@value
   * QueryPolicy#MAX_SECONDS} s, a quorum of 1 to the number of agents, a quorum wait of 1 to
   * {@value QueryPolicy#MAX_SECONDS} s; a {@code mode} of {@value QueryPolicy#ANSWER} or {@value
   * QueryPolicy#DEBATE}, and for a debate at least two agents, {@value QueryPolicy#MIN_ROUNDS} to
   * {@value QueryPolicy#MAX_ROUNDS} rounds, a synthesizer among the agents and no agent name a
   * debate's response names could be taken for. Returns null when the policy asks for nothing; a
   * debate comes back with its rounds and synthesizer filled in, an answer-mode policy without the
   * debate fields (as before debates existed).
   */
  public QueryPolicy checkPolicy(QueryPolicy policy, List<AgentSpec> agents) {
    if (policy == null || policy.asksNothing()) {
      return null;
    }
    Integer deadline = policy.deadlineSeconds();
    if (deadline != null
        && (deadline < QueryPolicy.MIN_DEADLINE_SECONDS || deadline > QueryPolicy.MAX_SECONDS)) {
      throw invalidPolicy(
          "policy.deadlineSeconds must be between "
              + QueryPolicy.MIN_DEADLINE_SECONDS
              + " and "
              + QueryPolicy.MAX_SECONDS);
    }
    Integer quorum = policy.quorum();
    if (quorum != null && (quorum < 1 || quorum > agents.size())) {
      throw invalidPolicy(
          "policy.quorum must be between 1 and the number of agents (" + agents.size() + ")");
    }
    Integer after = policy.quorumAfterSeconds();
    if (after != null && (after < 1 || after > QueryPolicy.MAX_SECONDS)) {
      throw invalidPolicy(
          "policy.quorumAfterSeconds must be between 1 and " + QueryPolicy.MAX_SECONDS);
    }
    String mode = policy.mode() == null ? QueryPolicy.ANSWER : policy.mode();
    if (!mode.equals(QueryPolicy.ANSWER) && !mode.equals(QueryPolicy.DEBATE)) {
      throw invalidPolicy(
          "policy.mode must be '" + QueryPolicy.ANSWER + "' or '" + QueryPolicy.DEBATE + "'");
    }
    if (mode.equals(QueryPolicy.ANSWER)) {
      if (policy.rounds() != null || policy.synthesizer() != null) {
        throw invalidPolicy("policy.rounds and policy.synthesizer need policy.mode 'debate'");
      }
      return policy.limitsWaiting() ? new QueryPolicy(deadline, quorum, after) : null;
    }
    return checkDebate(policy, agents);
  }

  private static QueryPolicy checkDebate(QueryPolicy policy, List<AgentSpec> agents) {
    if (agents.size() < 2) {
      throw invalidPolicy("a debate needs at least 2 agents");
    }
    int rounds = policy.roundCount();
    if (rounds < QueryPolicy.MIN_ROUNDS || rounds > QueryPolicy.MAX_ROUNDS) {
      throw invalidPolicy(
          "policy.rounds must be between "
              + QueryPolicy.MIN_ROUNDS
              + " and "
              + QueryPolicy.MAX_ROUNDS);
    }
    for (AgentSpec agent : agents) {
      if (DebateNames.reserved(agent.name())) {
        throw invalidPolicy(
            "in debate mode no agent may be named '"
                + DebateNames.SYNTHESIS
                + "' or end in ' · round <n>': '"
                + agent.name()
                + "'");
      }
    }
    String synthesizer = policy.synthesizer();
    if (synthesizer == null || synthesizer.isBlank()) {
      synthesizer = agents.getFirst().name();
    } else if (agents.stream().noneMatch(a -> a.name().equals(policy.synthesizer()))) {
      throw invalidPolicy(
          "policy.synthesizer must name one of the agents: "
              + String.join(", ", agents.stream().map(AgentSpec::name).toList()));
    }
    // A debate's deadline bounds all of it: every round and the synthesis.
    return new QueryPolicy(
        policy.deadlineSeconds(),
        policy.quorum(),
        policy.quorumAfterSeconds(),
        QueryPolicy.DEBATE,
        rounds,
        synthesizer);
  }

  private void checkProvider(UUID userId, String id) {
    var provider = catalog.find(id);
    if (provider.isEmpty()) {
      throw invalid(
          "provider '"
              + id
              + "' is not served by any worker; GET /api/providers lists the providers");
    }
    if (!provider.get().serverConfigured() && !catalog.userCredentials(userId).contains(id)) {
      throw invalid(
          "provider '"
              + id
              + "' has no server key; store your own with PUT /api/me/credentials/"
              + id);
    }
  }

  private static boolean blank(String s) {
    return s == null || s.isBlank();
  }

  private static ApiException invalid(String detail) {
    return new ApiException(HttpStatus.BAD_REQUEST, "invalid-agents", detail);
  }

  private static ApiException invalidPolicy(String detail) {
    return new ApiException(HttpStatus.BAD_REQUEST, "invalid-policy", detail);
  }
}
