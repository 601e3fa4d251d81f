package dev.chorus.worker.credential;

import dev.chorus.model.net.EgressPolicy;
import java.io.IOException;
import java.net.InetAddress;
import java.net.Proxy;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;
import okhttp3.Interceptor;
import okhttp3.OkHttpClient;
import okhttp3.Response;
import org.springframework.stereotype.Component;

/**
 * OkHttp clients for base URLs that users typed in. Every connection is checked by the egress
 * policy: names when they are resolved ({@link EgressDns}, so DNS rebinding meets the same rules),
 * IP literals (which OkHttp never hands to its {@code Dns}) before the call starts, and every
 * address once more at the socket, right before it connects. Redirects are not followed — a 302 to
 * the metadata service is a classic way around a check of the first URL — and no proxy is used,
 * since a proxy would resolve the name itself and bypass the check.
 */
@Component
public class UserEndpointClients {
  // What OkHttp treats as an IP literal rather than a name to resolve.
  private static final Pattern LITERAL = Pattern.compile("[0-9.]+|.*:.*");

  private final EgressPolicy policy;

  public UserEndpointClients(EgressPolicy policy) {
    this.policy = policy;
  }

  /**
   * A client like {@code base} (sharing its dispatcher and pool) that only reaches allowed
   * addresses. It replaces the base client's DNS wrapper, socket factory and proxy settings.
   */
  public OkHttpClient userEndpointClient(OkHttpClient base) {
    Set<InetAddress> allowlistedByName = ConcurrentHashMap.newKeySet();
    return base.newBuilder()
        .dns(new EgressDns(policy, base.dns(), allowlistedByName::addAll))
        .socketFactory(new EgressSocketFactory(policy, allowlistedByName))
        .addInterceptor(new LiteralGuard(policy))
        .proxy(Proxy.NO_PROXY)
        .followRedirects(false)
        .followSslRedirects(false)
        .build();
  }

  private record LiteralGuard(EgressPolicy policy) implements Interceptor {
    @Override
    public Response intercept(Chain chain) throws IOException {
      String host = chain.request().url().host();
      if (LITERAL.matcher(host).matches()
          && policy.checkHost(host) instanceof EgressPolicy.Rejected rejected) {
        throw new EgressRefusedException("egress refused: " + rejected.reason());
      }
      return chain.proceed(chain.request());
    }
  }
}
