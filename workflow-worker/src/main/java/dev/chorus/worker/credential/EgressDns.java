package dev.chorus.worker.credential;

import dev.chorus.model.net.EgressPolicy;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import okhttp3.Dns;

/**
 * Resolves like its delegate, then keeps only the addresses the egress policy allows. This is the
 * connect-time check against DNS rebinding: a name that resolved to a public address when the user
 * saved it is checked again every time a connection is made. An allowlisted host name keeps all its
 * addresses.
 */
public final class EgressDns implements Dns {
  private final EgressPolicy policy;
  private final Dns delegate;
  private final Consumer<List<InetAddress>> allowlistedAnswers;

  public EgressDns(EgressPolicy policy, Dns delegate) {
    this(policy, delegate, addresses -> {});
  }

  /**
   * @param allowlistedAnswers told what an allowlisted host name resolved to, so a later check by
   *     address alone can let those through
   */
  EgressDns(EgressPolicy policy, Dns delegate, Consumer<List<InetAddress>> allowlistedAnswers) {
    this.policy = policy;
    this.delegate = delegate;
    this.allowlistedAnswers = allowlistedAnswers;
  }

  public EgressDns(EgressPolicy policy) {
    this(policy, Dns.SYSTEM);
  }

  @Override
  public List<InetAddress> lookup(String hostname) throws UnknownHostException {
    Optional<String> problem = policy.hostProblem(hostname);
    if (problem.isPresent()) {
      throw new EgressRefusedException("egress refused: " + problem.get());
    }
    List<InetAddress> all = delegate.lookup(hostname);
    if (policy.isAllowlistedHost(hostname)) {
      allowlistedAnswers.accept(all);
      return all;
    }
    List<InetAddress> allowed = all.stream().filter(policy::isAllowed).toList();
    if (allowed.isEmpty()) {
      String why =
          all.isEmpty()
              ? "no addresses"
              : policy.whyBlocked(all.getFirst()).orElse(all.getFirst().getHostAddress());
      throw new EgressRefusedException(
          "egress to "
              + hostname
              + " refused: it resolves to "
              + why
              + (all.size() > 1 ? " (and " + (all.size() - 1) + " more, none allowed)" : "")
              + "; ask an operator to allowlist it");
    }
    return allowed;
  }
}
