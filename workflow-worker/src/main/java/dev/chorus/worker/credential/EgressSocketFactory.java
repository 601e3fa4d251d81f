package dev.chorus.worker.credential;

import dev.chorus.model.net.EgressPolicy;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketAddress;
import java.util.Optional;
import java.util.Set;
import javax.net.SocketFactory;

/**
 * The last check before a byte leaves: every socket refuses to connect to an address the policy
 * does not allow, however the address was reached (a redirect to an IP literal, which OkHttp never
 * resolves through its {@code Dns}, included).
 */
final class EgressSocketFactory extends SocketFactory {
  private final EgressPolicy policy;
  private final Set<InetAddress> allowlistedByName;

  /**
   * @param allowlistedByName addresses that allowlisted host names resolved to (see {@link
   *     EgressDns}): the policy cannot tell them from others by address alone
   */
  EgressSocketFactory(EgressPolicy policy, Set<InetAddress> allowlistedByName) {
    this.policy = policy;
    this.allowlistedByName = allowlistedByName;
  }

  @Override
  public Socket createSocket() {
    return new GuardedSocket();
  }

  @Override
  public Socket createSocket(String host, int port) throws IOException {
    return connected(new InetSocketAddress(host, port));
  }

  @Override
  public Socket createSocket(String host, int port, InetAddress localHost, int localPort)
      throws IOException {
    Socket socket = createSocket();
    socket.bind(new InetSocketAddress(localHost, localPort));
    socket.connect(new InetSocketAddress(host, port));
    return socket;
  }

  @Override
  public Socket createSocket(InetAddress host, int port) throws IOException {
    return connected(new InetSocketAddress(host, port));
  }

  @Override
  public Socket createSocket(InetAddress address, int port, InetAddress localAddress, int localPort)
      throws IOException {
    Socket socket = createSocket();
    socket.bind(new InetSocketAddress(localAddress, localPort));
    socket.connect(new InetSocketAddress(address, port));
    return socket;
  }

  private Socket connected(SocketAddress address) throws IOException {
    Socket socket = createSocket();
    socket.connect(address);
    return socket;
  }

  private Optional<String> whyBlocked(SocketAddress endpoint) {
    if (!(endpoint instanceof InetSocketAddress inet) || inet.isUnresolved()) {
      return Optional.of("an unresolved address");
    }
    return allowlistedByName.contains(inet.getAddress())
        ? Optional.empty()
        : policy.whyBlocked(inet.getAddress());
  }

  private final class GuardedSocket extends Socket {
    @Override
    public void connect(SocketAddress endpoint, int timeout) throws IOException {
      Optional<String> why = whyBlocked(endpoint);
      if (why.isPresent()) {
        close();
        throw new EgressRefusedException(
            "egress refused: connecting to " + why.get() + "; ask an operator to allowlist it");
      }
      super.connect(endpoint, timeout);
    }
  }
}
